#include "runtime/cgroups/device_filter_bpf.hpp"

#include <string>

#include "runtime/core/bpf_assembler.hpp"
#include "runtime/core/bpf_syscall.hpp"
#include "runtime/core/error.hpp"

namespace tether::cgroups {

namespace {

using bpf::R0;
using bpf::R1;
using bpf::R2;
using bpf::R3;
using bpf::R4;
using bpf::R5;

int32_t access_mask(const std::string& access) {
    int32_t mask = 0;
    for (char letter : access.empty() ? std::string("rwm") : access) {
        switch (letter) {
            case 'r': mask |= BPF_DEVCG_ACC_READ; break;
            case 'w': mask |= BPF_DEVCG_ACC_WRITE; break;
            case 'm': mask |= BPF_DEVCG_ACC_MKNOD; break;
            default:
                throw Error(std::string("linux.resources.devices: unknown access letter '") + letter + "'");
        }
    }
    return mask;
}

// 0 means "any type".
int32_t device_type(const std::string& type) {
    if (type.empty() || type == "a") return 0;
    if (type == "c") return BPF_DEVCG_DEV_CHAR;
    if (type == "b") return BPF_DEVCG_DEV_BLOCK;
    throw Error("linux.resources.devices: unknown device type \"" + type + "\"");
}

constexpr int32_t kAllAccess = BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD;

}  // namespace

// Registers: R1 holds the struct bpf_cgroup_dev_ctx pointer on entry.
// The prologue loads R2 = device type, R3 = requested access, R4 = major,
// R5 = minor, as runc's devicefilter does. 32-bit ALU and 64-bit jumps only
// (bpf_assembler.hpp): the filter loads on every kernel with cgroup v2
// device programs (4.15), not only on those with JMP32 (5.1).
std::vector<bpf_insn> build_device_filter(const std::vector<spec::DeviceRule>& rules) {
    bpf::Assembler a;
    a.load32(R2, R1, offsetof(bpf_cgroup_dev_ctx, access_type));
    a.and32(R2, 0xffff);
    a.load32(R3, R1, offsetof(bpf_cgroup_dev_ctx, access_type));
    a.rsh32(R3, 16);
    a.load32(R4, R1, offsetof(bpf_cgroup_dev_ctx, major));
    a.load32(R5, R1, offsetof(bpf_cgroup_dev_ctx, minor));
    bool decided = false;
    // Last rule wins: test the rules from the end; the first block that
    // matches returns its verdict.
    for (auto rule = rules.rbegin(); rule != rules.rend() && !decided; ++rule) {
        const int32_t type = device_type(rule->type);
        const int32_t access = access_mask(rule->access);
        // Each check jumps over the rest of this block on mismatch.
        const bpf::Assembler::Label next_rule = a.new_label();
        if (type != 0) a.jne64(R2, type, next_rule);
        if (access != kAllAccess) {
            // The request must be a subset of the rule's access:
            // (requested & allowed) == requested.
            a.mov32(R1, R3);
            a.and32(R1, access);
            a.jne64(R1, R3, next_rule);
        }
        if (rule->major) a.jne64(R4, static_cast<int32_t>(*rule->major), next_rule);
        if (rule->minor) a.jne64(R5, static_cast<int32_t>(*rule->minor), next_rule);
        a.mov32(R0, rule->allow ? 1 : 0);
        a.exit();
        a.bind(next_rule);
        // A match-all rule shadows every rule before it.
        decided = type == 0 && access == kAllAccess && !rule->major && !rule->minor;
    }
    if (!decided) {
        a.mov32(R0, 0);
        a.exit();
    }
    return a.finish();
}

UniqueFd load_device_filter(const std::vector<bpf_insn>& program) {
    // The device program calls no helper, GPL-only or other.
    return bpf::load_program(BPF_PROG_TYPE_CGROUP_DEVICE, BPF_CGROUP_DEVICE, program, "tether_devices", "Apache");
}

void attach_device_filter(int cgroup_dir_fd, int program_fd) {
    const std::vector<uint32_t> old_ids = bpf::attached_program_ids(cgroup_dir_fd, BPF_CGROUP_DEVICE);
    // ALLOW_MULTI (attach_program) lets the new program sit beside the old
    // one until the old one is detached below: the cgroup is never without a
    // filter.
    bpf::attach_program(cgroup_dir_fd, program_fd, BPF_CGROUP_DEVICE);
    for (uint32_t id : old_ids) {
        UniqueFd old = bpf::program_by_id(id);
        if (old) bpf::detach_program(cgroup_dir_fd, old.get(), BPF_CGROUP_DEVICE);  // else already gone
    }
}

}  // namespace tether::cgroups
