// The emitted eBPF device program, run through a tiny interpreter of the
// instructions the emitter uses, so each decision is checked as data.
#include <gtest/gtest.h>

#include "runtime/cgroups/device_filter_bpf.hpp"
#include "runtime/cgroups/device_rules.hpp"
#include "runtime/core/error.hpp"

namespace tether::cgroups {
namespace {

// Returns the program's verdict (1 allow, 0 deny) for one access.
int run(const std::vector<bpf_insn>& program, char type, const char* access, uint32_t major, uint32_t minor) {
    uint32_t access_bits = 0;
    for (const char* c = access; *c; ++c)
        access_bits |= *c == 'r' ? BPF_DEVCG_ACC_READ : *c == 'w' ? BPF_DEVCG_ACC_WRITE : BPF_DEVCG_ACC_MKNOD;
    bpf_cgroup_dev_ctx ctx{};
    ctx.access_type = (access_bits << 16) | (type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR);
    ctx.major = major;
    ctx.minor = minor;
    uint64_t reg[11] = {};
    for (size_t pc = 0; pc < program.size(); ++pc) {
        const bpf_insn& insn = program[pc];
        uint64_t& dst = reg[insn.dst_reg];
        switch (insn.code) {
            case BPF_LDX | BPF_MEM | BPF_W: {
                EXPECT_EQ(insn.src_reg, 1) << "loads only from the context";
                uint32_t value;
                std::memcpy(&value, reinterpret_cast<const char*>(&ctx) + insn.off, 4);
                dst = value;
                break;
            }
            case BPF_ALU | BPF_AND | BPF_K: dst = static_cast<uint32_t>(dst & static_cast<uint32_t>(insn.imm)); break;
            case BPF_ALU | BPF_RSH | BPF_K: dst = static_cast<uint32_t>(dst) >> insn.imm; break;
            case BPF_ALU | BPF_MOV | BPF_X: dst = static_cast<uint32_t>(reg[insn.src_reg]); break;
            case BPF_ALU | BPF_MOV | BPF_K: dst = static_cast<uint32_t>(insn.imm); break;
            case BPF_JMP | BPF_JNE | BPF_K:
                if (dst != static_cast<uint64_t>(static_cast<int64_t>(insn.imm))) pc += insn.off;
                break;
            case BPF_JMP | BPF_JNE | BPF_X:
                if (dst != reg[insn.src_reg]) pc += insn.off;
                break;
            case BPF_JMP | BPF_EXIT: return static_cast<int>(reg[0]);
            default: ADD_FAILURE() << "unexpected opcode " << int(insn.code); return -1;
        }
    }
    ADD_FAILURE() << "program fell off the end";
    return -1;
}

TEST(DeviceFilter, PodmanDenyAllPlusDefaults) {
    auto rules = default_device_rules();
    rules.insert(rules.begin(), device_rule(false, "a", std::nullopt, std::nullopt, "rwm"));
    const auto program = build_device_filter(rules);
    EXPECT_EQ(run(program, 'c', "rw", 1, 3), 1) << "/dev/null";
    EXPECT_EQ(run(program, 'c', "rw", 136, 7), 1) << "/dev/pts/7";
    EXPECT_EQ(run(program, 'c', "m", 8, 0), 1) << "mknod of any char device";
    EXPECT_EQ(run(program, 'b', "r", 8, 0), 0) << "reading /dev/sda";
    EXPECT_EQ(run(program, 'c', "r", 1, 1), 0) << "/dev/mem";
    EXPECT_EQ(run(program, 'c', "rw", 10, 229), 0) << "/dev/fuse not listed";
}

TEST(DeviceFilter, AccessMustBeASubsetOfTheRule) {
    const auto program = build_device_filter({device_rule(true, "c", 1, 3, "r")});
    EXPECT_EQ(run(program, 'c', "r", 1, 3), 1);
    EXPECT_EQ(run(program, 'c', "rw", 1, 3), 0);
    EXPECT_EQ(run(program, 'c', "w", 1, 3), 0);
    EXPECT_EQ(run(program, 'b', "r", 1, 3), 0) << "type must match";
}

TEST(DeviceFilter, LastMatchingRuleWins) {
    const auto program = build_device_filter({device_rule(true, "a", std::nullopt, std::nullopt, "rwm"),
                                              device_rule(false, "c", 1, std::nullopt, "rwm"),
                                              device_rule(true, "c", 1, 5, "r")});
    EXPECT_EQ(run(program, 'c', "r", 1, 5), 1);
    EXPECT_EQ(run(program, 'c', "w", 1, 5), 0);
    EXPECT_EQ(run(program, 'c', "r", 1, 3), 0);
    EXPECT_EQ(run(program, 'b', "rw", 8, 0), 1) << "allow-all before the denies";
}

TEST(DeviceFilter, NoRuleMatchingMeansDeny) {
    EXPECT_EQ(run(build_device_filter({}), 'c', "r", 1, 3), 0);
}

TEST(DeviceFilter, UnknownLettersAreErrors) {
    EXPECT_THROW(build_device_filter({device_rule(true, "c", 1, 3, "rx")}), Error);
    EXPECT_THROW(build_device_filter({device_rule(true, "p", 1, 3, "r")}), Error);
}

}  // namespace
}  // namespace tether::cgroups
