// A small eBPF assembler: instruction builders and forward labels, enough to
// emit by hand tether-netd's cgroup socket programs
// (hooks/bpf/socket_programs.cpp) and the runtime's cgroup v2 device filter
// (runtime/cgroups/device_filter_bpf.cpp). Both use this one assembler.
//
// Why by hand (docs/architecture.md, "Kernel enforcement"): the programs are
// small (the socket programs read their rules from a map, the device filter
// has the device numbers as immediates), generating them is microseconds,
// and neither binary then needs libbpf nor a BPF compiler at build or run
// time.
#pragma once

#include <linux/bpf.h>

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace tether::bpf {

enum Reg : uint8_t { R0 = 0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10 };

// Kernel 5.18 (BPF_FUNC_set_retval, 187): lets a cgroup program choose the
// errno of a refused call instead of EPERM. Present in the 6.1 uapi headers.
inline constexpr int32_t kHelperMapLookup = BPF_FUNC_map_lookup_elem;
inline constexpr int32_t kHelperPidTgid = BPF_FUNC_get_current_pid_tgid;
inline constexpr int32_t kHelperComm = BPF_FUNC_get_current_comm;
inline constexpr int32_t kHelperRingbufOutput = BPF_FUNC_ringbuf_output;
inline constexpr int32_t kHelperSetRetval = BPF_FUNC_set_retval;
inline constexpr int32_t kHelperMapUpdate = BPF_FUNC_map_update_elem;
inline constexpr int32_t kHelperMapDelete = BPF_FUNC_map_delete_elem;
// cgroup sock_addr (5.0) and sock_ops (5.0) programs: the socket's cookie,
// a 64-bit id unique for the life of the host (SO_COOKIE from user space).
inline constexpr int32_t kHelperSocketCookie = BPF_FUNC_get_socket_cookie;
// Cgroup programs (4.19): the value of a BPF_MAP_TYPE_CGROUP_STORAGE map for
// the cgroup the running program is attached to (never NULL).
inline constexpr int32_t kHelperLocalStorage = BPF_FUNC_get_local_storage;

class Assembler {
public:
    using Label = int;

    Label new_label() { return next_label_++; }
    // Binds `label` to the next instruction.
    void bind(Label label) { bound_[label] = static_cast<int>(code_.size()); }

    void mov(Reg dst, Reg src) { emit(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0); }
    void mov(Reg dst, int32_t imm) { emit(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm); }
    void add(Reg dst, int32_t imm) { emit(BPF_ALU64 | BPF_ADD | BPF_K, dst, 0, 0, imm); }
    void add(Reg dst, Reg src) { emit(BPF_ALU64 | BPF_ADD | BPF_X, dst, src, 0, 0); }
    void and_(Reg dst, int32_t imm) { emit(BPF_ALU64 | BPF_AND | BPF_K, dst, 0, 0, imm); }
    void rsh(Reg dst, int32_t imm) { emit(BPF_ALU64 | BPF_RSH | BPF_K, dst, 0, 0, imm); }
    void lsh(Reg dst, int32_t imm) { emit(BPF_ALU64 | BPF_LSH | BPF_K, dst, 0, 0, imm); }
    void lsh(Reg dst, Reg src) { emit(BPF_ALU64 | BPF_LSH | BPF_X, dst, src, 0, 0); }
    void rsh(Reg dst, Reg src) { emit(BPF_ALU64 | BPF_RSH | BPF_X, dst, src, 0, 0); }
    // 32-bit ALU (BPF_ALU, every kernel with eBPF): the destination's high
    // half is zeroed. The device filter keeps to these and to the 64-bit
    // jumps below, so it loads on kernels older than JMP32 (5.1).
    void mov32(Reg dst, Reg src) { emit(BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0); }
    void mov32(Reg dst, int32_t imm) { emit(BPF_ALU | BPF_MOV | BPF_K, dst, 0, 0, imm); }
    void and32(Reg dst, int32_t imm) { emit(BPF_ALU | BPF_AND | BPF_K, dst, 0, 0, imm); }
    void rsh32(Reg dst, int32_t imm) { emit(BPF_ALU | BPF_RSH | BPF_K, dst, 0, 0, imm); }
    // Network to host order of the low 16 bits (x86-64 and arm64 are little-endian).
    void be16(Reg dst) { emit(BPF_ALU | BPF_END | BPF_TO_BE, dst, 0, 0, 16); }

    void load32(Reg dst, Reg base, int16_t off) { emit(BPF_LDX | BPF_MEM | BPF_W, dst, base, off, 0); }
    void load64(Reg dst, Reg base, int16_t off) { emit(BPF_LDX | BPF_MEM | BPF_DW, dst, base, off, 0); }
    void store8(Reg base, int16_t off, int32_t imm) { emit(BPF_ST | BPF_MEM | BPF_B, base, 0, off, imm); }
    void store32(Reg base, int16_t off, int32_t imm) { emit(BPF_ST | BPF_MEM | BPF_W, base, 0, off, imm); }
    void store32(Reg base, int16_t off, Reg src) { emit(BPF_STX | BPF_MEM | BPF_W, base, src, off, 0); }
    void store64(Reg base, int16_t off, Reg src) { emit(BPF_STX | BPF_MEM | BPF_DW, base, src, off, 0); }
    void store64(Reg base, int16_t off, int32_t imm) { emit(BPF_ST | BPF_MEM | BPF_DW, base, 0, off, imm); }
    // *(u32 *)(base + off) |= src, atomically (kernel 5.12).
    void atomic_or32(Reg base, int16_t off, Reg src) { emit(BPF_STX | BPF_ATOMIC | BPF_W, base, src, off, BPF_OR); }

    // dst = the map whose fd is `map_fd` (two instructions).
    void load_map(Reg dst, int map_fd) {
        emit(BPF_LD | BPF_DW | BPF_IMM, dst, BPF_PSEUDO_MAP_FD, 0, map_fd);
        emit(0, 0, 0, 0, 0);
    }

    void call(int32_t helper) { emit(BPF_JMP | BPF_CALL, 0, 0, 0, helper); }
    void exit() { emit(BPF_JMP | BPF_EXIT, 0, 0, 0, 0); }
    void jump(Label to) { jump_insn(BPF_JMP | BPF_JA, R0, R0, 0, to); }
    // 32-bit comparisons of the register's low half (BPF_JMP32, kernel 5.1).
    void jeq(Reg dst, int32_t imm, Label to) { jump_insn(BPF_JMP32 | BPF_JEQ | BPF_K, dst, R0, imm, to); }
    void jne(Reg dst, int32_t imm, Label to) { jump_insn(BPF_JMP32 | BPF_JNE | BPF_K, dst, R0, imm, to); }
    void jlt(Reg dst, int32_t imm, Label to) { jump_insn(BPF_JMP32 | BPF_JLT | BPF_K, dst, R0, imm, to); }
    void jgt(Reg dst, int32_t imm, Label to) { jump_insn(BPF_JMP32 | BPF_JGT | BPF_K, dst, R0, imm, to); }
    void jset(Reg dst, int32_t imm, Label to) { jump_insn(BPF_JMP32 | BPF_JSET | BPF_K, dst, R0, imm, to); }
    void jeq(Reg dst, Reg src, Label to) { jump_insn(BPF_JMP32 | BPF_JEQ | BPF_X, dst, src, 0, to); }
    void jne(Reg dst, Reg src, Label to) { jump_insn(BPF_JMP32 | BPF_JNE | BPF_X, dst, src, 0, to); }
    // 64-bit comparisons (BPF_JMP): a pointer against 0 (a map lookup's
    // result), and the device filter's tests (see mov32 above).
    void jeq64(Reg dst, int32_t imm, Label to) { jump_insn(BPF_JMP | BPF_JEQ | BPF_K, dst, R0, imm, to); }
    void jne64(Reg dst, int32_t imm, Label to) { jump_insn(BPF_JMP | BPF_JNE | BPF_K, dst, R0, imm, to); }
    void jne64(Reg dst, Reg src, Label to) { jump_insn(BPF_JMP | BPF_JNE | BPF_X, dst, src, 0, to); }

    // The program with every jump resolved; throws std::logic_error for a
    // label used but never bound (a bug in the generator, not in the input).
    std::vector<bpf_insn> finish() const {
        std::vector<bpf_insn> out = code_;
        for (const auto& [at, label] : fixups_) {
            auto bound = bound_.find(label);
            if (bound == bound_.end()) throw std::logic_error("bpf assembler: unbound label " + std::to_string(label));
            int offset = bound->second - at - 1;
            if (offset < INT16_MIN || offset > INT16_MAX) throw std::logic_error("bpf assembler: jump too far");
            out[at].off = static_cast<int16_t>(offset);
        }
        return out;
    }

    size_t size() const { return code_.size(); }

private:
    void emit(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
        bpf_insn insn{};
        insn.code = code;
        insn.dst_reg = dst & 0xf;
        insn.src_reg = src & 0xf;
        insn.off = off;
        insn.imm = imm;
        code_.push_back(insn);
    }
    void jump_insn(uint8_t code, Reg dst, Reg src, int32_t imm, Label to) {
        fixups_.emplace_back(static_cast<int>(code_.size()), to);
        emit(code, dst, src, 0, imm);
    }

    std::vector<bpf_insn> code_;
    std::vector<std::pair<int, Label>> fixups_;
    std::map<Label, int> bound_;
    Label next_label_ = 0;
};

}  // namespace tether::bpf
