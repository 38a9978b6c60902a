#include "runtime/core/bpf_syscall.hpp"

#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "runtime/core/error.hpp"

#ifndef ENOTSUPP
#define ENOTSUPP 524  // the kernel's, not in the uapi headers
#endif

namespace tether::bpf {
namespace {

int sys_bpf(int command, bpf_attr& attr) {
    return static_cast<int>(::syscall(SYS_bpf, command, &attr, sizeof attr));
}

void set_name(char (&field)[BPF_OBJ_NAME_LEN], const std::string& name) {
    std::strncpy(field, name.c_str(), BPF_OBJ_NAME_LEN - 1);
}

// A map command that finds nothing for its key (ENOENT) returns false; any
// other failure throws naming the command.
bool found_unless_absent(int command, bpf_attr& attr, const char* name) {
    if (sys_bpf(command, attr) == 0) return true;
    if (errno == ENOENT) return false;
    throw Error(std::string("bpf(") + name + ")", errno);
}

UniqueFd create_map(bpf_map_type type, uint32_t key_size, uint32_t value_size, uint32_t entries,
                    const std::string& name, uint32_t flags = 0, int inner_template = -1) {
    bpf_attr attr{};
    attr.map_type = type;
    attr.key_size = key_size;
    attr.value_size = value_size;
    attr.max_entries = entries;
    attr.map_flags = flags;
    if (inner_template >= 0) attr.inner_map_fd = static_cast<uint32_t>(inner_template);
    set_name(attr.map_name, name);
    int fd = sys_bpf(BPF_MAP_CREATE, attr);
    if (fd < 0) throw Error("bpf(BPF_MAP_CREATE) of " + name, errno);
    return UniqueFd(fd);
}

}  // namespace

UniqueFd create_ringbuf_map(uint32_t bytes, const std::string& name) {
    return create_map(BPF_MAP_TYPE_RINGBUF, 0, 0, bytes, name);
}

UniqueFd create_array_map(uint32_t value_size, uint32_t entries, const std::string& name) {
    return create_map(BPF_MAP_TYPE_ARRAY, 4, value_size, entries, name);
}

UniqueFd create_lru_hash_map(uint32_t key_size, uint32_t value_size, uint32_t entries, const std::string& name) {
    return create_map(BPF_MAP_TYPE_LRU_HASH, key_size, value_size, entries, name);
}

UniqueFd create_cgroup_storage_map(uint32_t value_size, const std::string& name) {
    return create_map(BPF_MAP_TYPE_CGROUP_STORAGE, sizeof(uint64_t), value_size, 0, name);
}

UniqueFd create_hash_of_maps(int inner_template, uint32_t entries, const std::string& name) {
    return create_map(BPF_MAP_TYPE_HASH_OF_MAPS, sizeof(uint64_t), sizeof(uint32_t), entries, name,
                      BPF_F_NO_PREALLOC, inner_template);
}

UniqueFd create_hash_map(uint32_t key_size, uint32_t value_size, uint32_t entries, const std::string& name) {
    return create_map(BPF_MAP_TYPE_HASH, key_size, value_size, entries, name, BPF_F_NO_PREALLOC);
}

void map_update(int map_fd, const void* key, const void* value, const std::string& what, uint64_t flags) {
    bpf_attr attr{};
    attr.map_fd = static_cast<uint32_t>(map_fd);
    attr.key = reinterpret_cast<uint64_t>(key);
    attr.value = reinterpret_cast<uint64_t>(value);
    attr.flags = flags;
    if (sys_bpf(BPF_MAP_UPDATE_ELEM, attr) != 0) throw Error("bpf(BPF_MAP_UPDATE_ELEM) of " + what, errno);
}

bool map_next_key(int map_fd, const void* key, void* next) {
    bpf_attr attr{};
    attr.map_fd = static_cast<uint32_t>(map_fd);
    attr.key = reinterpret_cast<uint64_t>(key);
    attr.next_key = reinterpret_cast<uint64_t>(next);
    return found_unless_absent(BPF_MAP_GET_NEXT_KEY, attr, "BPF_MAP_GET_NEXT_KEY");
}

bool map_take(int map_fd, const void* key) {
    bpf_attr attr{};
    attr.map_fd = static_cast<uint32_t>(map_fd);
    attr.key = reinterpret_cast<uint64_t>(key);
    return found_unless_absent(BPF_MAP_DELETE_ELEM, attr, "BPF_MAP_DELETE_ELEM");
}

void map_update_batch(int map_fd, const void* keys, const void* values, uint32_t count, uint32_t key_size,
                      uint32_t value_size, const std::string& what) {
    if (count == 0) return;
    bpf_attr attr{};
    attr.batch.map_fd = static_cast<uint32_t>(map_fd);
    attr.batch.keys = reinterpret_cast<uint64_t>(keys);
    attr.batch.values = reinterpret_cast<uint64_t>(values);
    attr.batch.count = count;
    if (sys_bpf(BPF_MAP_UPDATE_BATCH, attr) == 0) return;
    if (errno != EINVAL && errno != ENOTSUPP && errno != EOPNOTSUPP)
        throw Error("bpf(BPF_MAP_UPDATE_BATCH) of " + what, errno);
    const auto* key = static_cast<const uint8_t*>(keys);
    const auto* value = static_cast<const uint8_t*>(values);
    for (uint32_t i = 0; i < count; ++i) map_update(map_fd, key + i * key_size, value + i * value_size, what);
}

void map_delete_batch(int map_fd, const void* keys, uint32_t count, uint32_t key_size) {
    if (count == 0) return;
    bpf_attr attr{};
    attr.batch.map_fd = static_cast<uint32_t>(map_fd);
    attr.batch.keys = reinterpret_cast<uint64_t>(keys);
    attr.batch.count = count;
    if (sys_bpf(BPF_MAP_DELETE_BATCH, attr) == 0) return;
    // Not batched by this kernel, or a key already gone: one by one (an
    // absent key is no error there).
    const auto* key = static_cast<const uint8_t*>(keys);
    for (uint32_t i = 0; i < count; ++i) map_delete(map_fd, key + i * key_size);
}

UniqueFd map_by_id(uint32_t id) {
    bpf_attr attr{};
    attr.map_id = id;
    UniqueFd fd(sys_bpf(BPF_MAP_GET_FD_BY_ID, attr));
    if (!fd) throw Error("bpf(BPF_MAP_GET_FD_BY_ID) of map " + std::to_string(id), errno);
    return fd;
}

void pin_object(int fd, const std::string& path) {
    bpf_attr attr{};
    attr.pathname = reinterpret_cast<uint64_t>(path.c_str());
    attr.bpf_fd = static_cast<uint32_t>(fd);
    if (sys_bpf(BPF_OBJ_PIN, attr) != 0) throw Error("bpf(BPF_OBJ_PIN) " + path, errno);
}

UniqueFd pinned_object(const std::string& path) {
    bpf_attr attr{};
    attr.pathname = reinterpret_cast<uint64_t>(path.c_str());
    return UniqueFd(sys_bpf(BPF_OBJ_GET, attr));
}

uint32_t program_id(int program_fd) {
    bpf_prog_info info{};
    bpf_attr attr{};
    attr.info.bpf_fd = static_cast<uint32_t>(program_fd);
    attr.info.info_len = sizeof info;
    attr.info.info = reinterpret_cast<uint64_t>(&info);
    return sys_bpf(BPF_OBJ_GET_INFO_BY_FD, attr) == 0 ? info.id : 0;
}

bool map_lookup(int map_fd, const void* key, void* value) {
    bpf_attr attr{};
    attr.map_fd = static_cast<uint32_t>(map_fd);
    attr.key = reinterpret_cast<uint64_t>(key);
    attr.value = reinterpret_cast<uint64_t>(value);
    return found_unless_absent(BPF_MAP_LOOKUP_ELEM, attr, "BPF_MAP_LOOKUP_ELEM");
}

void map_delete(int map_fd, const void* key) { map_take(map_fd, key); }

UniqueFd load_program(bpf_prog_type type, bpf_attach_type expected_attach, const std::vector<bpf_insn>& code,
                      const std::string& name, const char* license) {
    bpf_attr attr{};
    attr.prog_type = type;
    attr.expected_attach_type = expected_attach;
    attr.insns = reinterpret_cast<uint64_t>(code.data());
    attr.insn_cnt = static_cast<uint32_t>(code.size());
    attr.license = reinterpret_cast<uint64_t>(license);
    set_name(attr.prog_name, name);
    int fd = sys_bpf(BPF_PROG_LOAD, attr);
    if (fd >= 0) return UniqueFd(fd);
    // The verifier's log only for a failed load: a zeroed 256 KiB buffer per
    // program was 64 page faults each, 6 programs per sandbox (issue 23).
    // The error keeps the first load's errno: the second may fail only
    // because the log did not fit (ENOSPC).
    const int err = errno;
    std::string log;
    if (err != EPERM) {
        log.assign(256 * 1024, '\0');
        attr.log_buf = reinterpret_cast<uint64_t>(log.data());
        attr.log_size = static_cast<uint32_t>(log.size());
        attr.log_level = 1;
        fd = sys_bpf(BPF_PROG_LOAD, attr);
        if (fd >= 0) return UniqueFd(fd);  // a transient failure (ENOMEM, EAGAIN) the second load did not meet
        log.resize(std::strlen(log.c_str()));
        // The verdict is at the end of the log.
        if (log.size() > 2000) log = "..." + log.substr(log.size() - 2000);
    }
    throw Error("bpf(BPF_PROG_LOAD) of " + name + (log.empty() ? std::string() : " (verifier: " + log + ")"), err);
}

void attach_program(int cgroup_fd, int program_fd, bpf_attach_type type) {
    bpf_attr attr{};
    attr.target_fd = static_cast<uint32_t>(cgroup_fd);
    attr.attach_bpf_fd = static_cast<uint32_t>(program_fd);
    attr.attach_type = type;
    attr.attach_flags = BPF_F_ALLOW_MULTI;
    if (sys_bpf(BPF_PROG_ATTACH, attr) != 0) throw Error("bpf(BPF_PROG_ATTACH)", errno);
}

void detach_program(int cgroup_fd, int program_fd, bpf_attach_type type) {
    bpf_attr attr{};
    attr.target_fd = static_cast<uint32_t>(cgroup_fd);
    attr.attach_bpf_fd = static_cast<uint32_t>(program_fd);
    attr.attach_type = type;
    if (sys_bpf(BPF_PROG_DETACH, attr) != 0 && errno != ENOENT) throw Error("bpf(BPF_PROG_DETACH)", errno);
}

std::vector<uint32_t> attached_program_ids(int cgroup_fd, bpf_attach_type type) {
    std::vector<uint32_t> ids(64);
    bpf_attr attr{};
    attr.query.target_fd = static_cast<uint32_t>(cgroup_fd);
    attr.query.attach_type = type;
    attr.query.prog_ids = reinterpret_cast<uint64_t>(ids.data());
    attr.query.prog_cnt = static_cast<uint32_t>(ids.size());
    if (sys_bpf(BPF_PROG_QUERY, attr) != 0) throw Error("bpf(BPF_PROG_QUERY)", errno);
    ids.resize(std::min<size_t>(attr.query.prog_cnt, ids.size()));
    return ids;
}

UniqueFd program_by_id(uint32_t id) {
    bpf_attr attr{};
    attr.prog_id = id;
    UniqueFd fd(sys_bpf(BPF_PROG_GET_FD_BY_ID, attr));
    if (!fd && errno != ENOENT) throw Error("bpf(BPF_PROG_GET_FD_BY_ID) of program " + std::to_string(id), errno);
    return fd;
}

}  // namespace tether::bpf
