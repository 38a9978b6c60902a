// cgroup v2 has no devices.allow/deny files: device access is decided by an
// eBPF program of type BPF_PROG_TYPE_CGROUP_DEVICE attached to the cgroup.
// We emit the few instructions ourselves (like runc's devicefilter and crun's
// ebpf.c) instead of depending on libbpf or a compiler.
#pragma once

#include <linux/bpf.h>

#include <vector>

#include "runtime/core/unique_fd.hpp"
#include "spec/config.hpp"

namespace tether::cgroups {

// The program for an ordered rule list: the LAST matching rule decides (as
// with v1 devices.allow/deny writes); a device no rule matches is denied.
// A match-all rule ("a", no major/minor, "rwm") decides for everything not
// matched by the rules after it. Pure: unit tests run the result through a
// small interpreter. Throws tether::Error for an unknown type or access letter.
std::vector<bpf_insn> build_device_filter(const std::vector<spec::DeviceRule>& rules);

// bpf(BPF_PROG_LOAD); the error carries the kernel verifier's log.
UniqueFd load_device_filter(const std::vector<bpf_insn>& program);

// Attaches program_fd to the cgroup directory as its BPF_CGROUP_DEVICE
// program, then detaches the programs that were attached before, so an
// update replaces the filter without a window where no filter is attached.
void attach_device_filter(int cgroup_dir_fd, int program_fd);

}  // namespace tether::cgroups
