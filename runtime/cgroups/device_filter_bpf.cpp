#include "runtime/cgroups/device_filter_bpf.hpp"

#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "runtime/core/error.hpp"

namespace tether::cgroups {

namespace {

// Registers: R1 holds the struct bpf_cgroup_dev_ctx pointer on entry.
// The prologue loads R2 = device type, R3 = requested access, R4 = major,
// R5 = minor, as runc's devicefilter does.
constexpr uint8_t R0 = 0, R1 = 1, R2 = 2, R3 = 3, R4 = 4, R5 = 5;

bpf_insn make(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
    bpf_insn insn{};
    insn.code = code;
    insn.dst_reg = dst & 0xf;
    insn.src_reg = src & 0xf;
    insn.off = off;
    insn.imm = imm;
    return insn;
}
bpf_insn load_u32(uint8_t dst, uint8_t src, int16_t off) { return make(BPF_LDX | BPF_MEM | BPF_W, dst, src, off, 0); }
bpf_insn and_imm32(uint8_t dst, int32_t imm) { return make(BPF_ALU | BPF_AND | BPF_K, dst, 0, 0, imm); }
bpf_insn rsh_imm32(uint8_t dst, int32_t imm) { return make(BPF_ALU | BPF_RSH | BPF_K, dst, 0, 0, imm); }
bpf_insn mov_reg32(uint8_t dst, uint8_t src) { return make(BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0); }
bpf_insn mov_imm32(uint8_t dst, int32_t imm) { return make(BPF_ALU | BPF_MOV | BPF_K, dst, 0, 0, imm); }
bpf_insn jne_imm(uint8_t dst, int32_t imm, int16_t off) { return make(BPF_JMP | BPF_JNE | BPF_K, dst, 0, off, imm); }
bpf_insn jne_reg(uint8_t dst, uint8_t src, int16_t off) { return make(BPF_JMP | BPF_JNE | BPF_X, dst, src, off, 0); }
bpf_insn exit_insn() { return make(BPF_JMP | BPF_EXIT, 0, 0, 0, 0); }

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

std::vector<bpf_insn> build_device_filter(const std::vector<spec::DeviceRule>& rules) {
    std::vector<bpf_insn> program = {
        load_u32(R2, R1, offsetof(bpf_cgroup_dev_ctx, access_type)),
        and_imm32(R2, 0xffff),
        load_u32(R3, R1, offsetof(bpf_cgroup_dev_ctx, access_type)),
        rsh_imm32(R3, 16),
        load_u32(R4, R1, offsetof(bpf_cgroup_dev_ctx, major)),
        load_u32(R5, R1, offsetof(bpf_cgroup_dev_ctx, minor)),
    };
    bool decided = false;
    // Last rule wins: test the rules from the end; the first block that
    // matches returns its verdict.
    for (auto rule = rules.rbegin(); rule != rules.rend() && !decided; ++rule) {
        const int32_t type = device_type(rule->type);
        const int32_t access = access_mask(rule->access);
        std::vector<bpf_insn> checks;
        // Each check jumps over the rest of this block on mismatch; offsets
        // are patched once the block's length is known.
        if (type != 0) checks.push_back(jne_imm(R2, type, 0));
        if (access != kAllAccess) {
            // The request must be a subset of the rule's access:
            // (requested & allowed) == requested.
            checks.push_back(mov_reg32(R1, R3));
            checks.push_back(and_imm32(R1, access));
            checks.push_back(jne_reg(R1, R3, 0));
        }
        if (rule->major) checks.push_back(jne_imm(R4, static_cast<int32_t>(*rule->major), 0));
        if (rule->minor) checks.push_back(jne_imm(R5, static_cast<int32_t>(*rule->minor), 0));
        checks.push_back(mov_imm32(R0, rule->allow ? 1 : 0));
        checks.push_back(exit_insn());
        for (size_t i = 0; i < checks.size(); ++i) {
            if ((checks[i].code & 0x07) == BPF_JMP && (checks[i].code & 0xf0) == BPF_JNE)
                checks[i].off = static_cast<int16_t>(checks.size() - i - 1);
        }
        program.insert(program.end(), checks.begin(), checks.end());
        // A match-all rule shadows every rule before it.
        decided = type == 0 && access == kAllAccess && !rule->major && !rule->minor;
    }
    if (!decided) {
        program.push_back(mov_imm32(R0, 0));
        program.push_back(exit_insn());
    }
    return program;
}

UniqueFd load_device_filter(const std::vector<bpf_insn>& program) {
    static const char license[] = "Apache";
    std::string log(64 * 1024, '\0');
    bpf_attr attr{};
    attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    attr.insns = reinterpret_cast<uint64_t>(program.data());
    attr.insn_cnt = static_cast<uint32_t>(program.size());
    attr.license = reinterpret_cast<uint64_t>(license);
    attr.log_buf = reinterpret_cast<uint64_t>(log.data());
    attr.log_size = static_cast<uint32_t>(log.size());
    attr.log_level = 1;
    int fd = static_cast<int>(::syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof attr));
    if (fd < 0 && errno == ENOSPC) {
        // The log did not fit; load again without it for the plain errno.
        attr.log_buf = 0;
        attr.log_size = 0;
        attr.log_level = 0;
        fd = static_cast<int>(::syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof attr));
    }
    if (fd < 0) {
        const int err = errno;
        log.resize(std::strlen(log.c_str()));
        throw Error("cgroups: bpf(BPF_PROG_LOAD) of the device filter" +
                        (log.empty() ? std::string() : " (verifier: " + log + ")"),
                    err);
    }
    return UniqueFd(fd);
}

namespace {

std::vector<uint32_t> attached_program_ids(int cgroup_dir_fd) {
    std::vector<uint32_t> ids(64);
    bpf_attr attr{};
    attr.query.target_fd = static_cast<uint32_t>(cgroup_dir_fd);
    attr.query.attach_type = BPF_CGROUP_DEVICE;
    attr.query.prog_ids = reinterpret_cast<uint64_t>(ids.data());
    attr.query.prog_cnt = static_cast<uint32_t>(ids.size());
    if (::syscall(SYS_bpf, BPF_PROG_QUERY, &attr, sizeof attr) != 0)
        throw Error("cgroups: bpf(BPF_PROG_QUERY) of the device filters", errno);
    ids.resize(std::min<size_t>(attr.query.prog_cnt, ids.size()));
    return ids;
}

}  // namespace

void attach_device_filter(int cgroup_dir_fd, int program_fd) {
    const std::vector<uint32_t> old_ids = attached_program_ids(cgroup_dir_fd);
    bpf_attr attr{};
    attr.target_fd = static_cast<uint32_t>(cgroup_dir_fd);
    attr.attach_bpf_fd = static_cast<uint32_t>(program_fd);
    attr.attach_type = BPF_CGROUP_DEVICE;
    // ALLOW_MULTI lets the new program sit beside the old one until the old
    // one is detached below: the cgroup is never without a filter.
    attr.attach_flags = BPF_F_ALLOW_MULTI;
    if (::syscall(SYS_bpf, BPF_PROG_ATTACH, &attr, sizeof attr) != 0)
        throw Error("cgroups: bpf(BPF_PROG_ATTACH, BPF_CGROUP_DEVICE)", errno);
    for (uint32_t id : old_ids) {
        bpf_attr get{};
        get.prog_id = id;
        UniqueFd old(static_cast<int>(::syscall(SYS_bpf, BPF_PROG_GET_FD_BY_ID, &get, sizeof get)));
        if (!old) {
            if (errno == ENOENT) continue;  // already gone
            throw Error("cgroups: bpf(BPF_PROG_GET_FD_BY_ID) of the old device filter", errno);
        }
        bpf_attr detach{};
        detach.target_fd = static_cast<uint32_t>(cgroup_dir_fd);
        detach.attach_bpf_fd = static_cast<uint32_t>(old.get());
        detach.attach_type = BPF_CGROUP_DEVICE;
        if (::syscall(SYS_bpf, BPF_PROG_DETACH, &detach, sizeof detach) != 0 && errno != ENOENT)
            throw Error("cgroups: bpf(BPF_PROG_DETACH) of the old device filter", errno);
    }
}

}  // namespace tether::cgroups
