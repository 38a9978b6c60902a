// Live tests of the one program set every sandbox shares (issue 23): each
// cgroup is held to its own policy, nothing passes before the policy is
// written, a departed container's slot comes to the next one with nothing
// of the old one's left, and a set pinned in bpffs is opened, not loaded,
// by the next container. Root and a cgroup2 mount are needed; otherwise the
// tests skip.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <memory>
#include <string>
#include <thread>

#include "hooks/bpf/container_slots.hpp"
#include "hooks/bpf/program_policy.hpp"
#include "hooks/bpf/program_set.hpp"
#include "hooks/bpf/socket_enforcement.hpp"
#include "hooks/bpf/socket_events.hpp"
#include "runtime/core/bpf_syscall.hpp"
#include "tests/unit/hooks/cgroup_socket_support.hpp"
#include "tests/unit/hooks/supervisor_test_support.hpp"
#include "tests/unit/scratch_dir.hpp"

namespace tether::hooks::bpf {
namespace {

using testing::CountingTcpServer;
using tether::test_support::ScratchDir;

SocketRules host_rules_listing(uint16_t port) {
    SocketRules rules;
    rules.mode = NetworkMode::host;
    rules.host_loopback_ports = {{port, port}};
    rules.track_bound_ports = true;
    return rules;
}

// What a log file holds once `body` (given the log) is done with it.
std::string logged(const std::function<void(const std::shared_ptr<DecisionLog>&)>& body) {
    ScratchDir dir("bpf-log");
    const std::string path = dir.path() + "/log";
    {
        auto log = std::make_shared<DecisionLog>(path);
        body(log);
        log->flush();
    }
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

class SharedProgramSet : public ::testing::Test {
protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "needs root";
        if (a_.path().empty() || b_.path().empty()) GTEST_SKIP() << "no cgroup v2 hierarchy to make scratch cgroups in";
        // A set of this test's own (not the host's pinned one): its slot
        // pool starts empty.
        set_ = std::make_shared<const ProgramSet>(ProgramSet::load());
        one_.start_accepting();
        two_.start_accepting();
    }

    ScratchCgroup a_{"-a"};
    ScratchCgroup b_{"-b"};
    std::shared_ptr<const ProgramSet> set_;
    CountingTcpServer one_, two_;
};

TEST_F(SharedProgramSet, EachCgroupIsHeldToItsOwnPolicy) {
    auto in_a = SocketEnforcement::attach(host_rules_listing(one_.port()), a_.path(), set_);
    auto in_b = SocketEnforcement::attach(host_rules_listing(two_.port()), b_.path(), set_);
    EXPECT_EQ(in_a.program_ids(), in_b.program_ids()) << "the same programs, loaded once";
    EXPECT_NE(in_a.slot(), in_b.slot());
    EXPECT_EQ(in_cgroup(a_.path(), [&] { return tcp_connect("127.0.0.1", one_.port()); }), 0);
    EXPECT_EQ(in_cgroup(a_.path(), [&] { return tcp_connect("127.0.0.1", two_.port()); }), ECONNREFUSED);
    EXPECT_EQ(in_cgroup(b_.path(), [&] { return tcp_connect("127.0.0.1", two_.port()); }), 0);
    EXPECT_EQ(in_cgroup(b_.path(), [&] { return tcp_connect("127.0.0.1", one_.port()); }), ECONNREFUSED);
}

TEST_F(SharedProgramSet, ACgroupBelowTheContainersIsHeldToTheContainersPolicy) {
    auto in_a = SocketEnforcement::attach(host_rules_listing(one_.port()), a_.path(), set_);
    ScratchCgroup inner("-inner", a_.path());
    ASSERT_FALSE(inner.path().empty());
    EXPECT_EQ(in_cgroup(inner.path(), [&] { return tcp_connect("127.0.0.1", one_.port()); }), 0);
    EXPECT_EQ(in_cgroup(inner.path(), [&] { return tcp_connect("127.0.0.1", two_.port()); }), ECONNREFUSED);
}

TEST_F(SharedProgramSet, NothingPassesBeforeThePolicyIsWritten) {
    // The programs attached as a create attaches them, and no policy
    // written after (the moment between the two).
    UniqueFd cgroup(::open(a_.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    for (const auto& p : set_->programs())
        if (p.use == ProgramUse::always) tether::bpf::attach_program(cgroup.get(), p.fd.get(), p.attach_type);
    EXPECT_EQ(in_cgroup(a_.path(), [&] { return tcp_connect("127.0.0.1", one_.port()); }), EPERM);
    EXPECT_EQ(in_cgroup(a_.path(), [&] { return udp_sendto("::1", 9); }), EPERM);
}

// Removes `cgroup` (whose id is `cgroup_id`), waits until the kernel has
// released its programs and policy (a moment after the rmdir), and runs the
// slot upkeep once. The upkeep walks the owners only when slots of
// `refill_kind` are missing, as they are in a new set.
bool remove_and_free(ScratchCgroup& cgroup, uint64_t cgroup_id, const ProgramSet& set, SlotKind refill_kind) {
    if (!cgroup.remove()) return false;
    auto policy = std::make_unique<ProgramPolicy>();
    for (int i = 0; i < 100 && tether::bpf::map_lookup(set.maps().policies, &cgroup_id, policy.get()); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return keep_slots(set, refill_kind).freed == 1;
}

TEST_F(SharedProgramSet, ADepartedContainersSlotComesToTheNextWithNothingOfItsEventsLeft) {
    uint64_t slot = 0, a_id = 0;
    {
        auto in_a = SocketEnforcement::attach(host_rules_listing(one_.port()), a_.path(), set_);
        EXPECT_FALSE(in_a.slot_from_pool()) << "the pool of a new set is empty";
        slot = in_a.slot();
        a_id = in_a.cgroup_id();
        // Logged into the slot's ring and never read.
        EXPECT_EQ(in_cgroup(a_.path(), [&] { return tcp_connect("127.0.0.1", two_.port()); }), ECONNREFUSED);
    }
    // Upkeep of the other kind: the basic free list holds only a's slot.
    ASSERT_TRUE(remove_and_free(a_, a_id, *set_, SlotKind::transparent));
    std::string text = logged([&](const std::shared_ptr<DecisionLog>& log) {
        auto in_b = SocketEnforcement::attach(host_rules_listing(two_.port()), b_.path(), set_);
        EXPECT_TRUE(in_b.slot_from_pool());
        EXPECT_EQ(in_b.slot(), slot);
        SocketEventReader reader(UniqueFd(::dup(in_b.events_fd())), kEventRingBytes, "b", log);
        EXPECT_EQ(in_cgroup(b_.path(), [&] { return tcp_connect("127.0.0.1", one_.port()); }), ECONNREFUSED);
        reader.drain();
    });
    EXPECT_NE(text.find("\"port\":" + std::to_string(one_.port())), std::string::npos) << text;
    EXPECT_EQ(text.find("\"port\":" + std::to_string(two_.port())), std::string::npos)
        << "a's denial reached b's log: " << text;
}

TEST_F(SharedProgramSet, ADepartedContainersOriginalDestinationsAreGoneBeforeTheSlotIsReused) {
    SocketRules rules;
    rules.mode = NetworkMode::own_namespace;
    rules.transparent_port = one_.port();  // any listener: the connect is only redirected there
    uint64_t slot = 0, a_id = 0;
    {
        auto in_a = SocketEnforcement::attach(rules, a_.path(), set_);
        slot = in_a.slot();
        a_id = in_a.cgroup_id();
        EXPECT_EQ(in_cgroup(a_.path(), [&] { return tcp_connect("192.0.2.7", 443); }), 0);
        uint8_t key[sizeof(ClientKey)];
        EXPECT_TRUE(tether::bpf::map_next_key(in_a.original_destinations_fd(), nullptr, key))
            << "the redirect filed its original destination";
    }
    ASSERT_TRUE(remove_and_free(a_, a_id, *set_, SlotKind::basic));
    auto in_b = SocketEnforcement::attach(rules, b_.path(), set_);
    EXPECT_EQ(in_b.slot(), slot);
    uint8_t key[sizeof(ClientKey)];
    EXPECT_FALSE(tether::bpf::map_next_key(in_b.original_destinations_fd(), nullptr, key))
        << "a's original destination is still in the slot b was given";
}

TEST_F(SharedProgramSet, ALiveContainersSlotIsNeverHandedOut) {
    auto in_a = SocketEnforcement::attach(host_rules_listing(one_.port()), a_.path(), set_);
    // a's daemon has gone (nothing calls it), its cgroup has not.
    EXPECT_EQ(keep_slots(*set_, SlotKind::basic).freed, 0u);
    auto in_b = SocketEnforcement::attach(host_rules_listing(two_.port()), b_.path(), set_);
    EXPECT_NE(in_b.slot(), in_a.slot());
}

TEST_F(SharedProgramSet, UpkeepKeepsFreeSlotsForTheNextCreates) {
    SlotUpkeep upkeep = keep_slots(*set_, SlotKind::basic);
    EXPECT_EQ(upkeep.made, kMinFreeSlots);
    EXPECT_EQ(keep_slots(*set_, SlotKind::basic).made, 0u);
    auto in_a = SocketEnforcement::attach(host_rules_listing(one_.port()), a_.path(), set_);
    EXPECT_TRUE(in_a.slot_from_pool());
}

TEST_F(SharedProgramSet, FreeSlotsBeyondTheMostKeptAreDestroyed) {
    std::vector<uint64_t> slots;
    for (size_t i = 0; i < kMaxFreeSlots + 4; ++i) slots.push_back(claim_slot(*set_, SlotKind::basic, 1000 + i).id);
    for (uint64_t slot : slots) return_slot(*set_, slot);
    SlotUpkeep upkeep = keep_slots(*set_, SlotKind::basic);
    EXPECT_EQ(upkeep.destroyed, 4u);
    EXPECT_EQ(upkeep.made, 0u);
    EXPECT_EQ(keep_slots(*set_, SlotKind::basic).destroyed, 0u) << "8 free slots are kept";
}

// A bpffs of the test's own, unmounted at the end.
class PinnedProgramSet : public ::testing::Test {
protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "needs root";
        if (::mount("bpf", dir_.path().c_str(), "bpf", 0, "mode=0700") != 0) GTEST_SKIP() << "cannot mount bpffs";
        mounted_ = true;
        // As on a host: the sets in a directory of tether's own.
        ASSERT_EQ(::mkdir(sets_.c_str(), 0700), 0);
    }
    void TearDown() override {
        if (mounted_) ::umount2(dir_.path().c_str(), MNT_DETACH);
    }
    std::vector<uint32_t> ids(const ProgramSet& set) {
        std::vector<uint32_t> out;
        for (const auto& p : set.programs()) out.push_back(tether::bpf::program_id(p.fd.get()));
        return out;
    }
    size_t entries() {
        size_t n = 0;
        for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(sets_)) ++n;
        return n;
    }

    ScratchDir dir_{"bpffs"};
    const std::string sets_ = dir_.path() + "/tether";
    bool mounted_ = false;
};

TEST_F(PinnedProgramSet, TheNextContainerOpensTheSetTheFirstPinned) {
    ::mkdir((sets_ + "/0123456789abcdef").c_str(), 0700);  // another build's
    ::mkdir((sets_ + "/new-999999999-1").c_str(), 0700);   // a loader that died
    ProgramSet first = ProgramSet::pinned_in(sets_);
    EXPECT_FALSE(first.reused());
    ProgramSet next = ProgramSet::pinned_in(sets_);
    EXPECT_TRUE(next.reused());
    EXPECT_EQ(ids(first), ids(next));
    EXPECT_TRUE(std::filesystem::exists(sets_ + "/" + ProgramSet::digest()));
    EXPECT_EQ(entries(), 1u) << "the other build's set and the dead loader's directory are removed";
}

TEST_F(PinnedProgramSet, TwoFirstLoadsAtOnceEndWithOneSetForEveryone) {
    auto one = std::async(std::launch::async, [&] { return ProgramSet::pinned_in(sets_); });
    auto two = std::async(std::launch::async, [&] { return ProgramSet::pinned_in(sets_); });
    ProgramSet a = one.get(), b = two.get();
    ProgramSet next = ProgramSet::pinned_in(sets_);
    EXPECT_TRUE(next.reused());
    EXPECT_TRUE(ids(next) == ids(a) || ids(next) == ids(b));
    EXPECT_EQ(entries(), 1u);
}

}  // namespace
}  // namespace tether::hooks::bpf
