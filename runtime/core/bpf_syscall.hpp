// Thin wrappers of bpf(2), for tether-netd's socket programs and the
// runtime's cgroup v2 device filter. Each throws tether::Error naming the
// command and, for a load, the verifier's log.
#pragma once

#include <linux/bpf.h>

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/core/unique_fd.hpp"

namespace tether::bpf {

UniqueFd create_ringbuf_map(uint32_t bytes, const std::string& name);
UniqueFd create_array_map(uint32_t value_size, uint32_t entries, const std::string& name);
// BPF_MAP_TYPE_LRU_HASH (4.10): a full map evicts its least recently used
// entry instead of refusing an update, so an entry nobody collects (a
// connect that failed before it reached the proxy) cannot fill it.
UniqueFd create_lru_hash_map(uint32_t key_size, uint32_t value_size, uint32_t entries, const std::string& name);
// BPF_MAP_TYPE_CGROUP_STORAGE with 8-byte keys (5.9): one value per cgroup
// (its id is the key), shared by every program attached there that uses the
// map, made at the first attach and freed with the cgroup.
UniqueFd create_cgroup_storage_map(uint32_t value_size, const std::string& name);
// BPF_MAP_TYPE_HASH_OF_MAPS, u64 keys, not preallocated; every inner map
// must be like `inner_template` (type, sizes).
UniqueFd create_hash_of_maps(int inner_template, uint32_t entries, const std::string& name);
// BPF_MAP_TYPE_HASH, not preallocated.
UniqueFd create_hash_map(uint32_t key_size, uint32_t value_size, uint32_t entries, const std::string& name);
// BPF_MAP_UPDATE_ELEM (flags BPF_ANY by default); throws naming `what`.
void map_update(int map_fd, const void* key, const void* value, const std::string& what, uint64_t flags = BPF_ANY);
// BPF_MAP_DELETE_ELEM: true when this call removed the key, false when it
// was absent (of two callers taking the same key, one gets true).
bool map_take(int map_fd, const void* key);
// BPF_MAP_UPDATE_BATCH / BPF_MAP_DELETE_BATCH (5.6), one entry after the
// other where the kernel has no batch for the map: for a hash-of-maps the
// kernel waits for one RCU grace period per call instead of one per entry.
// `keys` and `values` hold `count` entries of the map's sizes.
void map_update_batch(int map_fd, const void* keys, const void* values, uint32_t count, uint32_t key_size,
                      uint32_t value_size, const std::string& what);
void map_delete_batch(int map_fd, const void* keys, uint32_t count, uint32_t key_size);
// BPF_MAP_GET_FD_BY_ID (CAP_SYS_ADMIN): the map whose id a hash-of-maps
// lookup returned; throws when it is gone.
UniqueFd map_by_id(uint32_t id);
// BPF_MAP_GET_NEXT_KEY: the key after `key` (the first with nullptr);
// false after the last.
bool map_next_key(int map_fd, const void* key, void* next);
// BPF_OBJ_PIN / BPF_OBJ_GET on a bpffs path; get returns an empty UniqueFd
// (errno set) when there is nothing usable there.
void pin_object(int fd, const std::string& path);
UniqueFd pinned_object(const std::string& path);
// The kernel's id of a program (BPF_OBJ_GET_INFO_BY_FD), 0 when unknown.
uint32_t program_id(int program_fd);
// BPF_MAP_LOOKUP_ELEM: false when the key is absent (ENOENT); throws on any other error.
bool map_lookup(int map_fd, const void* key, void* value);
// BPF_MAP_DELETE_ELEM: an absent key is no error.
void map_delete(int map_fd, const void* key);
// `name` is the program's name as bpftool shows it (at most 15 characters:
// letters, digits, '_' and '.'); `license` is what the kernel checks before
// it lets a program call a GPL-only helper.
UniqueFd load_program(bpf_prog_type type, bpf_attach_type expected_attach, const std::vector<bpf_insn>& code,
                      const std::string& name, const char* license);
// BPF_F_ALLOW_MULTI: a cgroup nested below (the container's own) may add
// programs of its own, but every program on the path runs and any refusal
// refuses: nothing below can override ours. It also lets a new program sit
// beside the one it replaces until that one is detached.
void attach_program(int cgroup_fd, int program_fd, bpf_attach_type type);
// A program no longer attached is no error.
void detach_program(int cgroup_fd, int program_fd, bpf_attach_type type);
// The ids of the programs attached to the cgroup itself for `type`.
std::vector<uint32_t> attached_program_ids(int cgroup_fd, bpf_attach_type type);
// BPF_PROG_GET_FD_BY_ID: an empty UniqueFd when the program is gone already.
UniqueFd program_by_id(uint32_t id);

}  // namespace tether::bpf
