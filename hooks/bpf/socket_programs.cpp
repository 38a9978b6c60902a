#include "hooks/bpf/socket_programs.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstring>
#include <functional>
#include <map>

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

// The stack frame: the event at the top, the map key overlaps it (the key is
// dead before the event is built).
constexpr int16_t kEvent = -static_cast<int16_t>(sizeof(SocketEvent));
constexpr int16_t kMapKey = -4;
// Transparent egress: the cookie key and the OriginalDestination value (the
// event was already sent when they are built).
constexpr int16_t kCookieKey = -8;
constexpr int16_t kOriginal = kCookieKey - static_cast<int16_t>(sizeof(OriginalDestination));
constexpr int16_t kClientKey = kOriginal - static_cast<int16_t>(sizeof(ClientKey));
constexpr int16_t event_field(size_t offset) { return static_cast<int16_t>(kEvent + static_cast<int>(offset)); }

// An address as the programs load it: four network-order bytes read as a
// little-endian u32.
int32_t loaded_word(const uint8_t* bytes) {
    uint32_t word;
    std::memcpy(&word, bytes, 4);
    return static_cast<int32_t>(word);
}
// The map helpers with their key, and an update's value, on the stack (at
// these offsets from R10): R1 = the map, R2 = &key, R3 = &value, R4 = flags.
// A lookup leaves the value pointer (or 0) in R0.
void call_map_with_stack_key(Assembler& a, int32_t helper, int map_fd, int16_t key) {
    a.load_map(R1, map_fd);
    a.mov(R2, R10);
    a.add(R2, key);
    a.call(helper);
}
void map_update_from_stack(Assembler& a, int map_fd, int16_t key, int16_t value) {
    a.load_map(R1, map_fd);
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

bool is_loopback_resolver(const Endpoint& r) {
    if (r.family == AF_INET) return r.bytes[0] == 127 || loaded_word(r.bytes.data()) == 0;
    return is_loopback_address(r) || is_wildcard_address(r);
}

enum class Family { v4, v6 };

class Generator {
public:
    Generator(const SocketRules& rules, const ProgramMaps& maps, EventOp op, Family family)
        : rules_(rules), maps_(maps), op_(op), family_(family) {}

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
        if (rules_.mode != NetworkMode::host) {
            a_.jump(outcome(Rule::bind_own_namespace));
        } else if (family_ == Family::v6) {
            bind_host_v6();
        } else {
            a_.load32(R7, R6, kUserIp4);
            bind_host_v4(kUserIp4);
        }
        outcomes();
        return a_.finish();
    }

    // BPF_PROG_TYPE_CGROUP_SOCK: sets the bound port's bit in the bitmap.
    std::vector<bpf_insn> post_bind() {
        Label out = a_.new_label();
        a_.mov(R6, R1);
        a_.load32(R7, R6, kSrcPort);
        bound_port_word(R7, out);
        a_.mov(R1, 1);
        a_.lsh(R1, R2);
        a_.atomic_or32(R0, 0, R1);
        a_.bind(out);
        a_.mov(R0, 1);
        a_.exit();
        return a_.finish();
    }

private:
    using Label = Assembler::Label;

    // R6 = ctx, R8 = the port in host order, for the whole program.
    void prologue() {
        a_.mov(R6, R1);
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

    void jump_if_port_in(const PortSpan& span, Label to) {
        if (span.first == span.last) {
            a_.jeq(R8, span.first, to);
            return;
        }
        Label outside = a_.new_label();
        a_.jlt(R8, span.first, outside);
        a_.jgt(R8, span.last, outside);
        a_.jump(to);
        a_.bind(outside);
    }

    // R7 holds the IPv4 address (a v6 program jumps here for v4-mapped).
    void jump_if_resolver_v4(const Endpoint& r, Label to) {
        Label next = a_.new_label();
        a_.jne(R8, 53, next);
        a_.jne(R7, loaded_word(r.bytes.data()), next);
        a_.jump(to);
        a_.bind(next);
    }

    // Compares the ctx's user_ip6 word by word (no register survives the
    // helper calls before some of these checks).
    void jump_if_resolver_v6(const Endpoint& r, Label to) {
        Label next = a_.new_label();
        a_.jne(R8, 53, next);
        for (int i = 0; i < 4; ++i) {
            a_.load32(R1, R6, static_cast<int16_t>(kUserIp6 + 4 * i));
            a_.jne(R1, loaded_word(r.bytes.data() + 4 * i), next);
        }
        a_.jump(to);
        a_.bind(next);
    }

    // Resolvers of one family that are (or are not) on loopback.
    void for_resolvers(int family, bool on_loopback, const std::function<void(const Endpoint&)>& each) {
        for (const auto& r : rules_.resolvers)
            if (r.family == family && is_loopback_resolver(r) == on_loopback) each(r);
    }

    void destination_v4() {
        Label loopback = a_.new_label();
        if (rules_.allow_dns) {
            auto allowed = [&](const Endpoint& r) { jump_if_resolver_v4(r, outcome(Rule::dns_resolver)); };
            for_resolvers(AF_INET, true, allowed);
            for_resolvers(AF_INET, false, allowed);
        }
        // 0.0.0.0 as a destination is the local host.
        a_.jeq(R7, 0, loopback);
        a_.mov(R1, R7);
        a_.and_(R1, 0xff);
        a_.jeq(R1, 127, loopback);
        if (!rules_.allow_dns)
            for_resolvers(AF_INET, false, [&](const Endpoint& r) { jump_if_resolver_v4(r, outcome(Rule::dns_not_allowed)); });
        jump_if_transparent();
        a_.jump(outcome(Rule::direct_egress));
        a_.bind(loopback);
        loopback_destination([&] {
            for_resolvers(AF_INET, true, [&](const Endpoint& r) {
                jump_if_resolver_v4(r, outcome(Rule::dns_not_allowed_loopback));
            });
        });
    }

    void destination_v6() {
        Label v4 = a_.new_label(), not_mapped = a_.new_label(), loopback = a_.new_label(), elsewhere = a_.new_label();
        load_ip6_unless_mapped(not_mapped);
        // ::ffff:a.b.c.d reaches a.b.c.d: the IPv4 rules decide.
        a_.mov(R7, R5);
        a_.jump(v4);
        a_.bind(not_mapped);
        if (rules_.allow_dns) {
            auto allowed = [&](const Endpoint& r) { jump_if_resolver_v6(r, outcome(Rule::dns_resolver)); };
            for_resolvers(AF_INET6, true, allowed);
            for_resolvers(AF_INET6, false, allowed);
            load_ip6_words();
        }
        // ::1, and :: (the local host as a destination).
        a_.jne(R2, 0, elsewhere);
        a_.jne(R3, 0, elsewhere);
        a_.jne(R4, 0, elsewhere);
        a_.jeq(R5, 0, loopback);
        a_.jeq(R5, kIpv6Loopback, loopback);
        a_.bind(elsewhere);
        if (!rules_.allow_dns)
            for_resolvers(AF_INET6, false, [&](const Endpoint& r) { jump_if_resolver_v6(r, outcome(Rule::dns_not_allowed)); });
        jump_if_transparent();
        a_.jump(outcome(Rule::direct_egress));
        a_.bind(loopback);
        loopback_destination([&] {
            for_resolvers(AF_INET6, true, [&](const Endpoint& r) {
                jump_if_resolver_v6(r, outcome(Rule::dns_not_allowed_loopback));
            });
        });
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

    // The destination is loopback. `resolvers_refused` checks the loopback
    // resolvers when allowDNS is unset (decision.cpp names them apart).
    void loopback_destination(const std::function<void()>& resolvers_refused) {
        // Own network namespace (with or without a veth): 127.0.0.1 is the
        // container's own lo; host ports reach it only through the bridge.
        if (rules_.mode != NetworkMode::host) {
            a_.jump(outcome(Rule::own_loopback));
            return;
        }
        // Host network: only the listed ports, the proxy and the sandbox's
        // own servers; a blanket rule would expose every host service.
        for (const auto& span : rules_.host_loopback_ports) jump_if_port_in(span, outcome(Rule::host_loopback_port));
        if (rules_.proxy_port) a_.jeq(R8, rules_.proxy_port, outcome(Rule::egress_proxy));
        if (rules_.track_bound_ports) jump_if_port_bound(outcome(Rule::sandbox_bound_port));
        if (!rules_.allow_dns) resolvers_refused();
        a_.jump(outcome(Rule::host_loopback_port_not_listed));
    }

    // R0 = the bitmap's 32-bit word holding `port`'s bit, R2 = the bit's
    // index in it; jumps to `missing` when the map has no value (never, for
    // an array, but the verifier wants the check). The index is masked, so
    // the verifier sees every offset inside the 8 KiB value.
    void bound_port_word(Reg port, Label missing) {
        a_.store32(R10, kMapKey, 0);
        call_map_with_stack_key(a_, kHelperMapLookup, maps_.bound_ports, kMapKey);
        a_.jeq64(R0, 0, missing);
        a_.mov(R1, port);
        a_.rsh(R1, 5);
        a_.and_(R1, 2047);
        a_.lsh(R1, 2);
        a_.add(R0, R1);
        a_.mov(R2, port);
        a_.and_(R2, 31);
    }

    void jump_if_port_bound(Label to) {
        Label unknown = a_.new_label();
        bound_port_word(R8, unknown);
        a_.load32(R1, R0, 0);
        a_.rsh(R1, R2);
        a_.and_(R1, 1);
        a_.jne(R1, 0, to);
        a_.bind(unknown);
    }

    void bind_ports() {
        if (!rules_.bind_ports) return;
        Label listed = a_.new_label();
        a_.jeq(R8, 0, listed);  // an ephemeral port: the kernel picks one
        for (const auto& span : *rules_.bind_ports) jump_if_port_in(span, listed);
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
        if (!rules_.transparent_port || op_ != EventOp::connect) return;
        Label not_tcp = a_.new_label();
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
        if (!rules_.dns_port || op_ == EventOp::bind) return;
        Label not_dns = a_.new_label();
        a_.jne(R8, 53, not_dns);
        jump_unless_socket(SOCK_DGRAM, IPPROTO_UDP, not_dns);
        a_.jump(outcome(Rule::dns_responder));
        a_.bind(not_dns);
    }

    // After the event (which names the original destination): file it under
    // the socket's cookie in `map` (the handoff program's, or recvmsg4/6's),
    // then point the call at `port` on the same family's loopback. The
    // rewrite happens in this same run, after the decision: nothing of the
    // container's can change either in between.
    void redirect(int map, uint16_t port) {
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
        // A failed update leaves the proxy without an original destination:
        // it then refuses the connection, so the result needs no check.
        map_update_from_stack(a_, map, kCookieKey, kOriginal);

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
        a_.mov(R1, static_cast<int32_t>(htons(port)));
        a_.store32(R6, kUserPort, R1);
    }

    // One block per rule the program can reach: log, then allow or refuse.
    void outcomes() {
        for (const auto& [rule, label] : outcomes_) {
            const RuleInfo& info = rule_info(rule);
            a_.bind(label);
            // The DNS responder logs each answer itself.
            bool log = !info.allows || (op_ != EventOp::sendmsg && rule != Rule::dns_responder);
            EventVerdict verdict = info.allows ? EventVerdict::allow
                                               : (rules_.audit ? EventVerdict::audit_deny : EventVerdict::deny);
            if (log) emit_event(rule, verdict);
            if (rule == Rule::transparent_proxy) redirect(maps_.original_by_cookie, rules_.transparent_port);
            if (rule == Rule::dns_responder) redirect(maps_.dns_by_cookie, rules_.dns_port);
            if (info.allows || rules_.audit) {
                a_.mov(R0, 1);
            } else {
                a_.mov(R1, -info.deny_errno);
                a_.call(kHelperSetRetval);
                a_.mov(R0, 0);
            }
            a_.exit();
        }
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
        a_.load_map(R1, maps_.events);
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
    }

    Assembler a_;
    const SocketRules& rules_;
    ProgramMaps maps_;
    EventOp op_;
    Family family_;
    std::map<Rule, Label> outcomes_;
};

// BPF_PROG_TYPE_SOCK_OPS at BPF_SOCK_OPS_TCP_CONNECT_CB: the kernel has
// chosen the source port and not yet sent the SYN, so the proxy cannot have
// accepted the connection yet. Moves the socket's original destination from
// its cookie to its (local address, local port), which the proxy sees as its
// accepted socket's peer. A connect that was not redirected deletes whatever
// an earlier connection from the same address and port left there, so that
// nobody inherits a stale destination.
std::vector<bpf_insn> handoff_program(const ProgramMaps& maps) {
    Assembler a;
    Assembler::Label out = a.new_label(), ipv6 = a.new_label(), key_done = a.new_label(), missing = a.new_label();
    a.mov(R6, R1);
    a.load32(R1, R6, kOpsOp);
    a.jne(R1, BPF_SOCK_OPS_TCP_CONNECT_CB, out);
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

    call_map_with_stack_key(a, kHelperMapLookup, maps.original_by_cookie, kCookieKey);
    a.jeq64(R0, 0, missing);
    // Copied to the stack: the value pointer dies with the delete below.
    for (int i = 0; i < 6; ++i) {
        a.load32(R1, R0, static_cast<int16_t>(4 * i));
        a.store32(R10, static_cast<int16_t>(kOriginal + 4 * i), R1);
    }
    map_update_from_stack(a, maps.original_by_client, kClientKey, kOriginal);
    call_map_with_stack_key(a, kHelperMapDelete, maps.original_by_cookie, kCookieKey);
    a.jump(out);
    a.bind(missing);
    call_map_with_stack_key(a, kHelperMapDelete, maps.original_by_client, kClientKey);
    a.bind(out);
    a.mov(R0, 1);
    a.exit();
    return a.finish();
}

// BPF_CGROUP_UDP4/6_RECVMSG: a datagram from the DNS responder (the family's
// loopback, port `dns_port`) gets as its source the address the socket last
// sent a query to, so the stub resolver takes the reply as its server's.
// Anything else is left as it is. A recvmsg program cannot refuse: R0 is 1.
std::vector<bpf_insn> recvmsg_program(const ProgramMaps& maps, Family family, uint16_t dns_port) {
    Assembler a;
    Assembler::Label out = a.new_label(), ours = a.new_label(), v6_native = a.new_label();
    a.mov(R6, R1);
    a.load32(R1, R6, kUserPort);
    a.be16(R1);
    a.jne(R1, dns_port, out);
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
    a.load_map(R1, maps.dns_by_cookie);
    a.mov(R2, R10);
    a.add(R2, kCookieKey);
    a.call(kHelperMapLookup);
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

std::vector<SocketProgram> build_socket_programs(const SocketRules& rules, const ProgramMaps& maps) {
    std::vector<SocketProgram> programs;
    auto add = [&](const char* name, bpf_prog_type type, bpf_attach_type attach, std::vector<bpf_insn> code) {
        programs.push_back({name, type, attach, std::move(code)});
    };
    constexpr auto kSockAddr = BPF_PROG_TYPE_CGROUP_SOCK_ADDR;
    add("connect4", kSockAddr, BPF_CGROUP_INET4_CONNECT,
        Generator(rules, maps, EventOp::connect, Family::v4).destination());
    add("connect6", kSockAddr, BPF_CGROUP_INET6_CONNECT,
        Generator(rules, maps, EventOp::connect, Family::v6).destination());
    add("sendmsg4", kSockAddr, BPF_CGROUP_UDP4_SENDMSG,
        Generator(rules, maps, EventOp::sendmsg, Family::v4).destination());
    add("sendmsg6", kSockAddr, BPF_CGROUP_UDP6_SENDMSG,
        Generator(rules, maps, EventOp::sendmsg, Family::v6).destination());
    add("bind4", kSockAddr, BPF_CGROUP_INET4_BIND, Generator(rules, maps, EventOp::bind, Family::v4).bind());
    add("bind6", kSockAddr, BPF_CGROUP_INET6_BIND, Generator(rules, maps, EventOp::bind, Family::v6).bind());
    if (rules.track_bound_ports) {
        add("post_bind4", BPF_PROG_TYPE_CGROUP_SOCK, BPF_CGROUP_INET4_POST_BIND,
            Generator(rules, maps, EventOp::bind, Family::v4).post_bind());
        add("post_bind6", BPF_PROG_TYPE_CGROUP_SOCK, BPF_CGROUP_INET6_POST_BIND,
            Generator(rules, maps, EventOp::bind, Family::v6).post_bind());
    }
    if (rules.dns_port) {
        add("recvmsg4", kSockAddr, BPF_CGROUP_UDP4_RECVMSG, recvmsg_program(maps, Family::v4, rules.dns_port));
        add("recvmsg6", kSockAddr, BPF_CGROUP_UDP6_RECVMSG, recvmsg_program(maps, Family::v6, rules.dns_port));
    }
    if (rules.transparent_port) add("handoff", BPF_PROG_TYPE_SOCK_OPS, BPF_CGROUP_SOCK_OPS, handoff_program(maps));
    return programs;
}

}  // namespace tether::hooks::bpf
