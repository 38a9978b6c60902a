#include "hooks/bpf/socket_programs.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstring>
#include <map>

#include "hooks/bpf/program_policy.hpp"
#include "runtime/core/bpf_assembler.hpp"

namespace tether::hooks::bpf {

// The assembler, its registers and helper numbers (runtime/core/bpf_assembler.hpp).
using namespace tether::bpf;

namespace {

// struct bpf_sock_addr fields, as the verifier lets a program read them.
constexpr int16_t kUserIp4 = offsetof(bpf_sock_addr, user_ip4);
constexpr int16_t kUserIp6 = offsetof(bpf_sock_addr, user_ip6);
constexpr int16_t kUserPort = offsetof(bpf_sock_addr, user_port);
constexpr int16_t kSocketType = offsetof(bpf_sock_addr, type);
constexpr int16_t kSrcPort = offsetof(bpf_sock, src_port);  // host order
constexpr int16_t kProtocol = offsetof(bpf_sock_addr, protocol);

// struct bpf_sock_ops fields (the handoff program).
constexpr int16_t kOpsOp = offsetof(bpf_sock_ops, op);
constexpr int16_t kOpsFamily = offsetof(bpf_sock_ops, family);
constexpr int16_t kOpsLocalIp4 = offsetof(bpf_sock_ops, local_ip4);
constexpr int16_t kOpsLocalIp6 = offsetof(bpf_sock_ops, local_ip6);
constexpr int16_t kOpsLocalPort = offsetof(bpf_sock_ops, local_port);  // host order

// The stack frame: the event at the top, below it the slot that keys the
// container's maps in the shared outer maps.
constexpr int16_t kEvent = -static_cast<int16_t>(sizeof(SocketEvent));
constexpr int16_t kSlotKey = kEvent - 8;
// Transparent egress: the cookie key and the OriginalDestination value (the
// event was already sent when they are built).
constexpr int16_t kCookieKey = -8;
constexpr int16_t kOriginal = kCookieKey - static_cast<int16_t>(sizeof(OriginalDestination));
constexpr int16_t kClientKey = kOriginal - static_cast<int16_t>(sizeof(ClientKey));
constexpr int16_t event_field(size_t offset) { return static_cast<int16_t>(kEvent + static_cast<int>(offset)); }

// ProgramPolicy fields, read through R9 (the cgroup storage's value).
constexpr int16_t policy_field(size_t offset) { return static_cast<int16_t>(offset); }
constexpr int16_t kPolicySlot = policy_field(offsetof(ProgramPolicy, slot));
constexpr int16_t kPolicyReadyField = policy_field(offsetof(ProgramPolicy, ready));
constexpr int16_t kPolicyHostNetwork = policy_field(offsetof(ProgramPolicy, host_network));
constexpr int16_t kPolicyAllowDns = policy_field(offsetof(ProgramPolicy, allow_dns));
constexpr int16_t kPolicyAudit = policy_field(offsetof(ProgramPolicy, audit));
constexpr int16_t kPolicyTrackBound = policy_field(offsetof(ProgramPolicy, track_bound_ports));
constexpr int16_t kPolicyCheckBind = policy_field(offsetof(ProgramPolicy, check_bind_ports));
constexpr int16_t kPolicyProxyPort = policy_field(offsetof(ProgramPolicy, proxy_port));
constexpr int16_t kPolicyTransparentPort = policy_field(offsetof(ProgramPolicy, transparent_port_be));
constexpr int16_t kPolicyDnsPort = policy_field(offsetof(ProgramPolicy, dns_port_be));
constexpr int16_t kPolicyLoopbackPorts = policy_field(offsetof(ProgramPolicy, host_loopback_ports));
constexpr int16_t kPolicyBindPorts = policy_field(offsetof(ProgramPolicy, bind_ports));
constexpr int16_t kPolicyBoundPorts = policy_field(offsetof(ProgramPolicy, bound_ports));
int16_t resolver_field(size_t slot, size_t offset) {
    return policy_field(offsetof(ProgramPolicy, resolvers) + slot * sizeof(PolicyResolver) + offset);
}

// R9 = the container's ProgramPolicy (bpf_get_local_storage cannot fail
// for a program that uses a cgroup storage map: the kernel made the value
// at the attach); to `unready` while the policy is not written (all
// zeroes). Clobbers R0-R5.
void load_policy(Assembler& a, const SharedMaps& maps, Assembler::Label unready) {
    a.load_map(R1, maps.policies);
    a.mov(R2, 0);
    a.call(kHelperLocalStorage);
    a.mov(R9, R0);
    a.load32(R1, R9, kPolicyReadyField);
    a.jne(R1, static_cast<int32_t>(kPolicyReady), unready);
}

// R0 = the container's map in `outer` (or 0): the key is the policy's
// slot, put on the stack. Clobbers R1-R5.
void lookup_container_map(Assembler& a, int outer) {
    a.load64(R1, R9, kPolicySlot);
    a.store64(R10, kSlotKey, R1);
    a.load_map(R1, outer);
    a.mov(R2, R10);
    a.add(R2, kSlotKey);
    a.call(kHelperMapLookup);
}

// The map helpers with their key, and an update's value, on the stack (at
// these offsets from R10): R1 = the map, R2 = &key, R3 = &value, R4 = flags.
// A lookup leaves the value pointer (or 0) in R0.
// The map is in `map` (an inner map found by lookup_container_map).
void call_map_with_stack_key(Assembler& a, int32_t helper, Reg map, int16_t key) {
    a.mov(R1, map);
    a.mov(R2, R10);
    a.add(R2, key);
    a.call(helper);
}
void map_update_from_stack(Assembler& a, Reg map, int16_t key, int16_t value) {
    a.mov(R1, map);
    a.mov(R2, R10);
    a.add(R2, key);
    a.mov(R3, R10);
    a.add(R3, value);
    a.mov(R4, BPF_ANY);
    a.call(kHelperMapUpdate);
}

constexpr int32_t kMappedPrefix = static_cast<int32_t>(0xffff0000);  // bytes 00 00 ff ff
constexpr int32_t kIpv6Loopback = 0x01000000;                       // bytes 00 00 00 01
constexpr int32_t kIpv4Loopback = 0x0100007f;                       // 127.0.0.1

enum class Family { v4, v6 };

class Generator {
public:
    Generator(const SharedMaps& maps, EventOp op, Family family) : maps_(maps), op_(op), family_(family) {}

    std::vector<bpf_insn> destination() {
        prologue();
        jump_if_dns();
        if (family_ == Family::v6) {
            destination_v6();
        } else {
            a_.load32(R7, R6, kUserIp4);
            destination_v4();
        }
        outcomes();
        return a_.finish();
    }

    std::vector<bpf_insn> bind() {
        prologue();
        bind_ports();
        a_.load32(R1, R9, kPolicyHostNetwork);
        a_.jeq(R1, 0, outcome(Rule::bind_own_namespace));
        if (family_ == Family::v6) {
            bind_host_v6();
        } else {
            a_.load32(R7, R6, kUserIp4);
            bind_host_v4(kUserIp4);
        }
        outcomes();
        return a_.finish();
    }

    // BPF_PROG_TYPE_CGROUP_SOCK: sets the bound port's bit in the policy's
    // bitmap (atomically: two threads may bind at once).
    std::vector<bpf_insn> post_bind() {
        Label out = a_.new_label();
        a_.mov(R6, R1);
        load_policy(a_, maps_, out);
        a_.load32(R7, R6, kSrcPort);
        port_word(R7);
        a_.mov(R3, 1);
        a_.lsh(R3, R2);
        a_.atomic_or32(R1, kPolicyBoundPorts, R3);
        a_.bind(out);
        a_.mov(R0, 1);
        a_.exit();
        return a_.finish();
    }

private:
    using Label = Assembler::Label;

    // R6 = ctx, R9 = the policy, R8 = the port in host order, for the whole
    // program. A policy not written yet refuses.
    void prologue() {
        a_.mov(R6, R1);
        load_policy(a_, maps_, unconfigured_);
        a_.load32(R8, R6, kUserPort);
        a_.be16(R8);
    }

    Label outcome(Rule rule) {
        auto found = outcomes_.find(rule);
        if (found != outcomes_.end()) return found->second;
        Label label = a_.new_label();
        outcomes_.emplace(rule, label);
        return label;
    }

    // To `to` when the policy's 32-bit field at `field` is (not) 0.
    void jump_if_zero(int16_t field, Label to) {
        a_.load32(R1, R9, field);
        a_.jeq(R1, 0, to);
    }
    void jump_unless_zero(int16_t field, Label to) {
        a_.load32(R1, R9, field);
        a_.jne(R1, 0, to);
    }

    // R1 = the policy's offset of the bitmap word holding `port`'s bit
    // (relative to a bitmap's start, added to R9), R2 = the bit's index in
    // it. The word index is masked, so the verifier sees every offset
    // inside the bitmap.
    void port_word(Reg port) {
        a_.mov(R1, port);
        a_.rsh(R1, 5);
        a_.and_(R1, kPortBitmapWords - 1);
        a_.lsh(R1, 2);
        a_.add(R1, R9);
        a_.mov(R2, port);
        a_.and_(R2, 31);
    }

    void jump_if_port_in(int16_t bitmap, Label to) {
        port_word(R8);
        a_.load32(R1, R1, bitmap);
        a_.rsh(R1, R2);
        a_.and_(R1, 1);
        a_.jne(R1, 0, to);
    }

    // Port 53 and R7 (the IPv4 address; a v6 program jumps here for
    // v4-mapped) one of the policy's IPv4 resolvers.
    void jump_if_resolver_v4(Label to) {
        Label done = a_.new_label();
        a_.jne(R8, 53, done);
        for (size_t slot = 0; slot < kMaxPolicyResolvers; ++slot) {
            Label next = a_.new_label();
            a_.load32(R1, R9, resolver_field(slot, offsetof(PolicyResolver, family)));
            a_.jne(R1, 4, next);
            a_.load32(R1, R9, resolver_field(slot, offsetof(PolicyResolver, address)));
            a_.jeq(R7, R1, to);
            a_.bind(next);
        }
        a_.bind(done);
    }

    // Port 53 and the ctx's user_ip6 one of the policy's IPv6 resolvers,
    // word by word (no register survives the helper calls before some of
    // these checks). Clobbers R1, R2.
    void jump_if_resolver_v6(Label to) {
        Label done = a_.new_label();
        a_.jne(R8, 53, done);
        for (size_t slot = 0; slot < kMaxPolicyResolvers; ++slot) {
            Label next = a_.new_label();
            a_.load32(R1, R9, resolver_field(slot, offsetof(PolicyResolver, family)));
            a_.jne(R1, 6, next);
            for (int i = 0; i < 4; ++i) {
                a_.load32(R1, R6, static_cast<int16_t>(kUserIp6 + 4 * i));
                a_.load32(R2, R9, resolver_field(slot, offsetof(PolicyResolver, address) + 4 * i));
                a_.jne(R1, R2, next);
            }
            a_.jump(to);
            a_.bind(next);
        }
        a_.bind(done);
    }

    void jump_if_resolver(Family family, Label to) {
        if (family == Family::v4) jump_if_resolver_v4(to);
        else jump_if_resolver_v6(to);
    }

    // allowDNS set: a listed resolver is reachable (before the loopback and
    // egress rules). Unset: a listed resolver is refused by its own rule
    // (decision.cpp names loopback and remote resolvers apart).
    void resolver_rule(Family family, bool when_allowed, Rule rule) {
        Label skip = a_.new_label();
        if (when_allowed) jump_if_zero(kPolicyAllowDns, skip);
        else jump_unless_zero(kPolicyAllowDns, skip);
        jump_if_resolver(family, outcome(rule));
        a_.bind(skip);
    }

    void destination_v4() {
        Label loopback = a_.new_label();
        resolver_rule(Family::v4, true, Rule::dns_resolver);
        // 0.0.0.0 as a destination is the local host.
        a_.jeq(R7, 0, loopback);
        a_.mov(R1, R7);
        a_.and_(R1, 0xff);
        a_.jeq(R1, 127, loopback);
        resolver_rule(Family::v4, false, Rule::dns_not_allowed);
        jump_if_transparent();
        a_.jump(outcome(Rule::direct_egress));
        a_.bind(loopback);
        loopback_destination(Family::v4);
    }

    void destination_v6() {
        Label v4 = a_.new_label(), not_mapped = a_.new_label(), loopback = a_.new_label(), elsewhere = a_.new_label();
        load_ip6_unless_mapped(not_mapped);
        // ::ffff:a.b.c.d reaches a.b.c.d: the IPv4 rules decide.
        a_.mov(R7, R5);
        a_.jump(v4);
        a_.bind(not_mapped);
        resolver_rule(Family::v6, true, Rule::dns_resolver);
        load_ip6_words();
        // ::1, and :: (the local host as a destination).
        a_.jne(R2, 0, elsewhere);
        a_.jne(R3, 0, elsewhere);
        a_.jne(R4, 0, elsewhere);
        a_.jeq(R5, 0, loopback);
        a_.jeq(R5, kIpv6Loopback, loopback);
        a_.bind(elsewhere);
        resolver_rule(Family::v6, false, Rule::dns_not_allowed);
        jump_if_transparent();
        a_.jump(outcome(Rule::direct_egress));
        a_.bind(loopback);
        loopback_destination(Family::v6);
        a_.bind(v4);
        destination_v4();
    }

    // load_ip6_words, then a jump to `not_mapped` unless the address is
    // v4-mapped (::ffff:a.b.c.d, its a.b.c.d word in R5).
    void load_ip6_unless_mapped(Label not_mapped) {
        load_ip6_words();
        a_.jne(R2, 0, not_mapped);
        a_.jne(R3, 0, not_mapped);
        a_.jne(R4, kMappedPrefix, not_mapped);
    }

    void load_ip6_words() {
        a_.load32(R2, R6, kUserIp6);
        a_.load32(R3, R6, kUserIp6 + 4);
        a_.load32(R4, R6, kUserIp6 + 8);
        a_.load32(R5, R6, kUserIp6 + 12);
    }

    // The destination is loopback.
    void loopback_destination(Family family) {
        // Own network namespace (with or without a veth): 127.0.0.1 is the
        // container's own lo; host ports reach it only through the bridge.
        jump_if_zero(kPolicyHostNetwork, outcome(Rule::own_loopback));
        // Host network: only the listed ports, the proxy and the sandbox's
        // own servers; a blanket rule would expose every host service.
        jump_if_port_in(kPolicyLoopbackPorts, outcome(Rule::host_loopback_port));
        Label no_proxy = a_.new_label(), untracked = a_.new_label();
        a_.load32(R1, R9, kPolicyProxyPort);
        a_.jeq(R1, 0, no_proxy);
        a_.jeq(R8, R1, outcome(Rule::egress_proxy));
        a_.bind(no_proxy);
        jump_if_zero(kPolicyTrackBound, untracked);
        jump_if_port_in(kPolicyBoundPorts, outcome(Rule::sandbox_bound_port));
        a_.bind(untracked);
        resolver_rule(family, false, Rule::dns_not_allowed_loopback);
        a_.jump(outcome(Rule::host_loopback_port_not_listed));
    }

    void bind_ports() {
        Label listed = a_.new_label();
        jump_if_zero(kPolicyCheckBind, listed);
        a_.jeq(R8, 0, listed);  // an ephemeral port: the kernel picks one
        jump_if_port_in(kPolicyBindPorts, listed);
        a_.jump(outcome(Rule::bind_port_not_listed));
        a_.bind(listed);
    }

    // R7 = the IPv4 address; `address_field` is where a narrowed address is
    // written (user_ip4, or the last word of a v4-mapped user_ip6).
    void bind_host_v4(int16_t address_field) {
        a_.mov(R1, R7);
        a_.and_(R1, 0xff);
        a_.jeq(R1, 127, outcome(Rule::bind_host_loopback));
        a_.jne(R7, 0, outcome(Rule::bind_non_loopback_on_host_network));
        // A sandboxed server must not listen on the host's real interfaces:
        // 0.0.0.0 becomes 127.0.0.1 (BPF_ST into the ctx is refused, so STX).
        a_.mov(R1, kIpv4Loopback);
        a_.store32(R6, address_field, R1);
        a_.jump(outcome(Rule::bind_wildcard_narrowed));
    }

    void bind_host_v6() {
        Label not_mapped = a_.new_label(), wildcard = a_.new_label();
        load_ip6_unless_mapped(not_mapped);
        a_.mov(R7, R5);
        bind_host_v4(kUserIp6 + 12);
        a_.bind(not_mapped);
        a_.jne(R2, 0, outcome(Rule::bind_non_loopback_on_host_network));
        a_.jne(R3, 0, outcome(Rule::bind_non_loopback_on_host_network));
        a_.jne(R4, 0, outcome(Rule::bind_non_loopback_on_host_network));
        a_.jeq(R5, kIpv6Loopback, outcome(Rule::bind_host_loopback));
        a_.jeq(R5, 0, wildcard);
        a_.jump(outcome(Rule::bind_non_loopback_on_host_network));
        a_.bind(wildcard);
        a_.mov(R1, kIpv6Loopback);
        a_.store32(R6, kUserIp6 + 12, R1);
        a_.jump(outcome(Rule::bind_wildcard_narrowed));
    }

    // A TCP connect (not UDP, not another stream protocol such as SCTP or
    // MPTCP, whose connects the proxy could not take over) goes to the
    // transparent listener instead of being refused.
    void jump_if_transparent() {
        if (op_ != EventOp::connect) return;
        Label not_tcp = a_.new_label();
        jump_if_zero(kPolicyTransparentPort, not_tcp);
        jump_unless_socket(SOCK_STREAM, IPPROTO_TCP, not_tcp);
        a_.jump(outcome(Rule::transparent_proxy));
        a_.bind(not_tcp);
    }

    // To `other` unless the socket is of this type and protocol (both
    // checked: a stream socket may be MPTCP, a datagram one UDP-Lite).
    void jump_unless_socket(int32_t type, int32_t protocol, Label other) {
        a_.load32(R1, R6, kSocketType);
        a_.jne(R1, type, other);
        a_.load32(R1, R6, kProtocol);
        a_.jne(R1, protocol, other);
    }

    // UDP to port 53, whatever the address (loopback included: a resolv.conf
    // naming 127.0.0.53 has nothing listening there): to the DNS responder.
    // Before every other rule, so that allowDNS or a resolver rule never lets
    // a query leave the namespace.
    void jump_if_dns() {
        if (op_ == EventOp::bind) return;
        Label not_dns = a_.new_label();
        jump_if_zero(kPolicyDnsPort, not_dns);
        a_.jne(R8, 53, not_dns);
        jump_unless_socket(SOCK_DGRAM, IPPROTO_UDP, not_dns);
        a_.jump(outcome(Rule::dns_responder));
        a_.bind(not_dns);
    }

    // After the event (which names the original destination): file it under
    // the socket's cookie in the container's map in `outer` (the handoff
    // program's, or recvmsg4/6's), then point the call at the port in the
    // policy's `port_field` on the same family's loopback. The rewrite
    // happens in this same run, after the decision: nothing of the
    // container's can change either in between.
    void redirect(int outer, int16_t port_field) {
        a_.mov(R1, R6);
        a_.call(kHelperSocketCookie);
        a_.store64(R10, kCookieKey, R0);
        const auto field = [](size_t offset) { return static_cast<int16_t>(kOriginal + static_cast<int>(offset)); };
        for (int i = 0; i < 4; ++i) {
            const int16_t at = static_cast<int16_t>(field(offsetof(OriginalDestination, address)) + 4 * i);
            if (family_ == Family::v4 && i > 0) {
                a_.store32(R10, at, 0);
                continue;
            }
            a_.load32(R1, R6, static_cast<int16_t>(family_ == Family::v4 ? kUserIp4 : kUserIp6 + 4 * i));
            a_.store32(R10, at, R1);
        }
        a_.load32(R1, R6, kUserPort);
        a_.store32(R10, field(offsetof(OriginalDestination, port_be)), R1);
        a_.store32(R10, field(offsetof(OriginalDestination, family)), family_ == Family::v4 ? 4 : 6);
        // A missing map or a failed update leaves the proxy without an
        // original destination: it then refuses the connection, so neither
        // needs a check beyond the verifier's.
        Label filed = a_.new_label();
        lookup_container_map(a_, outer);
        a_.jeq64(R0, 0, filed);
        map_update_from_stack(a_, R0, kCookieKey, kOriginal);
        a_.bind(filed);

        if (family_ == Family::v4) {
            a_.mov(R1, kIpv4Loopback);
            a_.store32(R6, kUserIp4, R1);
        } else {
            // ::ffff:a.b.c.d goes to ::ffff:127.0.0.1 (the IPv4 listener,
            // which a v4-mapped connect reaches), anything else to ::1.
            Label native = a_.new_label(), port = a_.new_label();
            load_ip6_unless_mapped(native);
            a_.mov(R1, kIpv4Loopback);
            a_.store32(R6, kUserIp6 + 12, R1);
            a_.jump(port);
            a_.bind(native);
            a_.mov(R1, 0);
            for (int i = 0; i < 3; ++i) a_.store32(R6, static_cast<int16_t>(kUserIp6 + 4 * i), R1);
            a_.mov(R1, kIpv6Loopback);
            a_.store32(R6, kUserIp6 + 12, R1);
            a_.bind(port);
        }
        a_.load32(R1, R9, port_field);
        a_.store32(R6, kUserPort, R1);
    }

    // One block per rule the program can reach: log, then allow or refuse
    // (in audit mode: log as audit-deny and allow). Then the block for a
    // cgroup whose policy is not written: refused, with nothing to log to.
    void outcomes() {
        for (const auto& [rule, label] : outcomes_) {
            const RuleInfo& info = rule_info(rule);
            a_.bind(label);
            if (info.allows) {
                // The DNS responder logs each answer itself.
                if (op_ != EventOp::sendmsg && rule != Rule::dns_responder) emit_event(rule, EventVerdict::allow);
                if (rule == Rule::transparent_proxy) redirect(maps_.original_by_cookie, kPolicyTransparentPort);
                if (rule == Rule::dns_responder) redirect(maps_.dns_by_cookie, kPolicyDnsPort);
                a_.mov(R0, 1);
                a_.exit();
                continue;
            }
            Label audit = a_.new_label();
            jump_unless_zero(kPolicyAudit, audit);
            emit_event(rule, EventVerdict::deny);
            refuse(info.deny_errno);
            a_.bind(audit);
            emit_event(rule, EventVerdict::audit_deny);
            a_.mov(R0, 1);
            a_.exit();
        }
        a_.bind(unconfigured_);
        refuse(EPERM);
    }

    void refuse(int error) {
        a_.mov(R1, -error);
        a_.call(kHelperSetRetval);
        a_.mov(R0, 0);
        a_.exit();
    }

    void emit_event(Rule rule, EventVerdict verdict) {
        a_.call(kHelperPidTgid);
        a_.store64(R10, event_field(offsetof(SocketEvent, pid_tgid)), R0);
        a_.mov(R1, R10);
        a_.add(R1, event_field(offsetof(SocketEvent, comm)));
        a_.mov(R2, sizeof(SocketEvent::comm));
        a_.call(kHelperComm);
        const int16_t address = event_field(offsetof(SocketEvent, address));
        for (int i = 0; i < 4; ++i) {
            if (family_ == Family::v4 && i > 0) {
                a_.store32(R10, static_cast<int16_t>(address + 4 * i), 0);
                continue;
            }
            a_.load32(R1, R6, static_cast<int16_t>(family_ == Family::v4 ? kUserIp4 : kUserIp6 + 4 * i));
            a_.store32(R10, static_cast<int16_t>(address + 4 * i), R1);
        }
        a_.load32(R1, R6, kUserPort);
        a_.store32(R10, event_field(offsetof(SocketEvent, port_be)), R1);
        a_.store8(R10, event_field(offsetof(SocketEvent, op)), static_cast<int32_t>(op_));
        a_.store8(R10, event_field(offsetof(SocketEvent, verdict)), static_cast<int32_t>(verdict));
        a_.store8(R10, event_field(offsetof(SocketEvent, rule)), static_cast<int32_t>(rule));
        a_.store8(R10, event_field(offsetof(SocketEvent, family)), family_ == Family::v4 ? 4 : 6);
        a_.load32(R1, R6, kSocketType);
        a_.store32(R10, event_field(offsetof(SocketEvent, socket_type)), R1);
        a_.store32(R10, event_field(offsetof(SocketEvent, reserved)), 0);
        // No ring (the daemon has gone, or not yet put it there): the call
        // is decided all the same, only not logged.
        Label unlogged = a_.new_label();
        lookup_container_map(a_, maps_.events);
        a_.jeq64(R0, 0, unlogged);
        a_.mov(R1, R0);
        a_.mov(R2, R10);
        a_.add(R2, kEvent);
        a_.mov(R3, sizeof(SocketEvent));
        // Flags 0: the kernel wakes the reader only when it had read
        // everything before this record (bpf_ringbuf_commit). The reader
        // waits a few milliseconds after each wake-up before it reads, so a
        // burst of calls costs one wake-up, and an idle sandbox none
        // (socket_events.hpp).
        a_.mov(R4, 0);
        a_.call(kHelperRingbufOutput);
        a_.bind(unlogged);
    }

    Assembler a_;
    SharedMaps maps_;
    EventOp op_;
    Family family_;
    std::map<Rule, Label> outcomes_;
    Label unconfigured_ = a_.new_label();
};

// BPF_PROG_TYPE_SOCK_OPS at BPF_SOCK_OPS_TCP_CONNECT_CB: the kernel has
// chosen the source port and not yet sent the SYN, so the proxy cannot have
// accepted the connection yet. Moves the socket's original destination from
// its cookie to its (local address, local port), which the proxy sees as its
// accepted socket's peer. A connect that was not redirected deletes whatever
// an earlier connection from the same address and port left there, so that
// nobody inherits a stale destination. R7 and R8 hold the container's two
// maps.
std::vector<bpf_insn> handoff_program(const SharedMaps& maps) {
    Assembler a;
    Assembler::Label out = a.new_label(), ipv6 = a.new_label(), key_done = a.new_label(), missing = a.new_label();
    a.mov(R6, R1);
    a.load32(R1, R6, kOpsOp);
    a.jne(R1, BPF_SOCK_OPS_TCP_CONNECT_CB, out);
    load_policy(a, maps, out);
    lookup_container_map(a, maps.original_by_cookie);
    a.jeq64(R0, 0, out);
    a.mov(R7, R0);
    lookup_container_map(a, maps.original_by_client);
    a.jeq64(R0, 0, out);
    a.mov(R8, R0);
    a.mov(R1, R6);
    a.call(kHelperSocketCookie);
    a.store64(R10, kCookieKey, R0);
    // The client key: IPv4 as ::ffff:a.b.c.d (what a v4-mapped socket holds).
    const auto key_word = [](int i) { return static_cast<int16_t>(kClientKey + 4 * i); };
    a.load32(R1, R6, kOpsFamily);
    a.jne(R1, AF_INET, ipv6);
    a.store32(R10, key_word(0), 0);
    a.store32(R10, key_word(1), 0);
    a.store32(R10, key_word(2), kMappedPrefix);
    a.load32(R1, R6, kOpsLocalIp4);
    a.store32(R10, key_word(3), R1);
    a.jump(key_done);
    a.bind(ipv6);
    for (int i = 0; i < 4; ++i) {
        a.load32(R1, R6, static_cast<int16_t>(kOpsLocalIp6 + 4 * i));
        a.store32(R10, key_word(i), R1);
    }
    a.bind(key_done);
    a.load32(R1, R6, kOpsLocalPort);
    a.store32(R10, key_word(4), R1);

    call_map_with_stack_key(a, kHelperMapLookup, R7, kCookieKey);
    a.jeq64(R0, 0, missing);
    // Copied to the stack: the value pointer dies with the delete below.
    for (int i = 0; i < 6; ++i) {
        a.load32(R1, R0, static_cast<int16_t>(4 * i));
        a.store32(R10, static_cast<int16_t>(kOriginal + 4 * i), R1);
    }
    map_update_from_stack(a, R8, kClientKey, kOriginal);
    call_map_with_stack_key(a, kHelperMapDelete, R7, kCookieKey);
    a.jump(out);
    a.bind(missing);
    call_map_with_stack_key(a, kHelperMapDelete, R8, kClientKey);
    a.bind(out);
    a.mov(R0, 1);
    a.exit();
    return a.finish();
}

// BPF_CGROUP_UDP4/6_RECVMSG: a datagram from the DNS responder (the family's
// loopback, the policy's DNS port) gets as its source the address the socket
// last sent a query to, so the stub resolver takes the reply as its server's.
// Anything else is left as it is. A recvmsg program cannot refuse: R0 is 1.
std::vector<bpf_insn> recvmsg_program(const SharedMaps& maps, Family family) {
    Assembler a;
    Assembler::Label out = a.new_label(), ours = a.new_label(), v6_native = a.new_label();
    a.mov(R6, R1);
    load_policy(a, maps, out);
    a.load32(R1, R9, kPolicyDnsPort);
    a.jeq(R1, 0, out);
    a.load32(R2, R6, kUserPort);
    a.jne(R2, R1, out);
    if (family == Family::v4) {
        a.load32(R1, R6, kUserIp4);
        a.jne(R1, kIpv4Loopback, out);
    } else {
        // ::1, or ::ffff:127.0.0.1 (a v4-mapped query went to the v4 socket).
        a.load32(R2, R6, kUserIp6);
        a.load32(R3, R6, kUserIp6 + 4);
        a.load32(R4, R6, kUserIp6 + 8);
        a.load32(R5, R6, kUserIp6 + 12);
        a.jne(R2, 0, out);
        a.jne(R3, 0, out);
        a.jeq(R4, 0, v6_native);
        a.jne(R4, kMappedPrefix, out);
        a.jne(R5, kIpv4Loopback, out);
        a.jump(ours);
        a.bind(v6_native);
        a.jne(R5, kIpv6Loopback, out);
    }
    a.bind(ours);
    a.mov(R1, R6);
    a.call(kHelperSocketCookie);
    a.store64(R10, kCookieKey, R0);
    lookup_container_map(a, maps.dns_by_cookie);
    a.jeq64(R0, 0, out);
    call_map_with_stack_key(a, kHelperMapLookup, R0, kCookieKey);
    a.jeq64(R0, 0, out);
    if (family == Family::v4) {
        a.load32(R1, R0, offsetof(OriginalDestination, address));
        a.store32(R6, kUserIp4, R1);
    } else {
        // A v6 socket's datagram to ::ffff:a.b.c.d went through sendmsg4
        // (udpv6_sendmsg hands v4-mapped destinations to udp_sendmsg), which
        // filed the IPv4 address: it is given back v4-mapped.
        Assembler::Label native = a.new_label(), copied = a.new_label();
        a.load32(R1, R0, offsetof(OriginalDestination, family));
        a.jne(R1, 4, native);
        a.mov(R1, 0);
        a.store32(R6, kUserIp6, R1);
        a.store32(R6, kUserIp6 + 4, R1);
        a.mov(R1, kMappedPrefix);
        a.store32(R6, kUserIp6 + 8, R1);
        a.load32(R1, R0, offsetof(OriginalDestination, address));
        a.store32(R6, kUserIp6 + 12, R1);
        a.jump(copied);
        a.bind(native);
        for (int i = 0; i < 4; ++i) {
            a.load32(R1, R0, static_cast<int16_t>(offsetof(OriginalDestination, address) + 4 * i));
            a.store32(R6, static_cast<int16_t>(kUserIp6 + 4 * i), R1);
        }
        a.bind(copied);
    }
    a.load32(R1, R0, offsetof(OriginalDestination, port_be));
    a.store32(R6, kUserPort, R1);
    a.bind(out);
    a.mov(R0, 1);
    a.exit();
    return a.finish();
}

}  // namespace

bool program_needed(ProgramUse use, const SocketRules& rules) {
    switch (use) {
        case ProgramUse::always: return true;
        case ProgramUse::bound_ports: return rules.track_bound_ports;
        case ProgramUse::dns_responder: return rules.dns_port != 0;
        case ProgramUse::transparent_egress: return rules.transparent_port != 0;
    }
    return false;
}

std::vector<SocketProgram> build_socket_programs(const SharedMaps& maps) {
    std::vector<SocketProgram> programs;
    auto add = [&](const char* name, bpf_prog_type type, bpf_attach_type attach, ProgramUse use,
                   std::vector<bpf_insn> code) { programs.push_back({name, type, attach, use, std::move(code)}); };
    constexpr auto kSockAddr = BPF_PROG_TYPE_CGROUP_SOCK_ADDR;
    constexpr auto kAlways = ProgramUse::always;
    add("connect4", kSockAddr, BPF_CGROUP_INET4_CONNECT, kAlways,
        Generator(maps, EventOp::connect, Family::v4).destination());
    add("connect6", kSockAddr, BPF_CGROUP_INET6_CONNECT, kAlways,
        Generator(maps, EventOp::connect, Family::v6).destination());
    add("sendmsg4", kSockAddr, BPF_CGROUP_UDP4_SENDMSG, kAlways,
        Generator(maps, EventOp::sendmsg, Family::v4).destination());
    add("sendmsg6", kSockAddr, BPF_CGROUP_UDP6_SENDMSG, kAlways,
        Generator(maps, EventOp::sendmsg, Family::v6).destination());
    add("bind4", kSockAddr, BPF_CGROUP_INET4_BIND, kAlways, Generator(maps, EventOp::bind, Family::v4).bind());
    add("bind6", kSockAddr, BPF_CGROUP_INET6_BIND, kAlways, Generator(maps, EventOp::bind, Family::v6).bind());
    add("post_bind4", BPF_PROG_TYPE_CGROUP_SOCK, BPF_CGROUP_INET4_POST_BIND, ProgramUse::bound_ports,
        Generator(maps, EventOp::bind, Family::v4).post_bind());
    add("post_bind6", BPF_PROG_TYPE_CGROUP_SOCK, BPF_CGROUP_INET6_POST_BIND, ProgramUse::bound_ports,
        Generator(maps, EventOp::bind, Family::v6).post_bind());
    add("recvmsg4", kSockAddr, BPF_CGROUP_UDP4_RECVMSG, ProgramUse::dns_responder,
        recvmsg_program(maps, Family::v4));
    add("recvmsg6", kSockAddr, BPF_CGROUP_UDP6_RECVMSG, ProgramUse::dns_responder,
        recvmsg_program(maps, Family::v6));
    add("handoff", BPF_PROG_TYPE_SOCK_OPS, BPF_CGROUP_SOCK_OPS, ProgramUse::transparent_egress,
        handoff_program(maps));
    return programs;
}

}  // namespace tether::hooks::bpf
