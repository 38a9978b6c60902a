// The create <-> init (and exec <-> child) messages: each struct's wire
// format as sync_channel.hpp documents it, the round trip, and the refusal
// of what its own encode would never write.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime/core/error.hpp"
#include "runtime/linux/sync_messages.hpp"

namespace tether::os {
namespace {

TEST(HooksDoneMessage, EncodesOneLineEachAsDocumented) {
    HooksDoneMessage message;
    message.kernel_enforced = true;
    message.proxy_port = 41234;
    message.env = {"HTTP_PROXY=http://127.0.0.1:41234", "NO_PROXY=localhost,127.0.0.1"};
    EXPECT_EQ(message.encode(),
              "kernel_enforced\nproxy_port=41234\nenv=HTTP_PROXY=http://127.0.0.1:41234\n"
              "env=NO_PROXY=localhost,127.0.0.1\n");
    EXPECT_EQ(HooksDoneMessage::decode(message.encode()), message);
}

TEST(HooksDoneMessage, EmptyMeansNoSandboxAnswers) {
    EXPECT_EQ(HooksDoneMessage{}.encode(), "");
    HooksDoneMessage decoded = HooksDoneMessage::decode("");
    EXPECT_FALSE(decoded.kernel_enforced);
    EXPECT_FALSE(decoded.proxy_port);
    EXPECT_TRUE(decoded.env.empty());
}

TEST(HooksDoneMessage, SupervisorOnlyHasNoKernelLine) {
    HooksDoneMessage decoded = HooksDoneMessage::decode("proxy_port=1\nenv=A=\n");
    EXPECT_FALSE(decoded.kernel_enforced);
    EXPECT_EQ(decoded.proxy_port, 1);
    EXPECT_EQ(decoded.env, std::vector<std::string>{"A="});
}

TEST(HooksDoneMessage, RefusesWhatEncodeNeverWrites) {
    for (const char* payload : {"proxy_port=0\n", "proxy_port=65536\n", "proxy_port=12x\n", "proxy_port=\n",
                                "proxy_port=-1\n", "env=NOEQUALS\n", "env==value\n", "kernel_enforced",
                                "unknown\n", "\n", "env=A=1"}) {
        EXPECT_THROW(HooksDoneMessage::decode(payload), Error) << payload;
    }
}

TEST(HooksDoneMessage, RefusesAnEntryThatWouldSplitALine) {
    HooksDoneMessage message;
    message.env = {"A=1\nproxy_port=9"};
    EXPECT_THROW(message.encode(), Error);
    message.env = {"NOEQUALS"};
    EXPECT_THROW(message.encode(), Error);
}

TEST(ListenerFdMessage, KindColonNumber) {
    EXPECT_EQ((ListenerFdMessage{ListenerKind::netd, 7}).encode(), "netd:7");
    EXPECT_EQ((ListenerFdMessage{ListenerKind::config, 12}).encode(), "config:12");
    EXPECT_EQ(ListenerFdMessage::decode("netd:7"), (ListenerFdMessage{ListenerKind::netd, 7}));
    EXPECT_EQ(ListenerFdMessage::decode("config:12"), (ListenerFdMessage{ListenerKind::config, 12}));
}

TEST(ListenerFdMessage, RefusesOtherKindsAndNumbers) {
    for (const char* payload : {"", "7", "netd", "netd:", "netd:-1", "netd:7x", "agent:7", "NETD:7", "netd:99999999999"})
        EXPECT_THROW(ListenerFdMessage::decode(payload), Error) << payload;
    EXPECT_THROW((ListenerFdMessage{ListenerKind::netd, -1}).encode(), Error);
}

TEST(ConsoleFdMessage, TheNumberAlone) {
    EXPECT_EQ(ConsoleFdMessage{5}.encode(), "5");
    EXPECT_EQ(ConsoleFdMessage::decode("5"), ConsoleFdMessage{5});
    for (const char* payload : {"", " 5", "5\n", "-5", "five"})
        EXPECT_THROW(ConsoleFdMessage::decode(payload), Error) << payload;
}

TEST(GoMessage, CarriesTheHookStateAsItIs) {
    GoMessage go{R"({"ociVersion":"1.0.2","status":"created"})"};
    EXPECT_EQ(go.encode(), go.hook_state);
    EXPECT_EQ(GoMessage::decode(go.encode()), go);
    EXPECT_EQ(GoMessage::decode(""), GoMessage{});  // exec's child runs no hooks
}

TEST(SyncMessages, TravelOverTheChannelTyped) {
    auto [parent, child] = SyncChannel::make_pair();
    HooksDoneMessage answer;
    answer.proxy_port = 3128;
    answer.env = {"HTTPS_PROXY=http://127.0.0.1:3128"};
    send_message(parent, answer);
    EXPECT_EQ(expect_message<HooksDoneMessage>(child), answer);

    send_message(child, ListenerFdMessage{ListenerKind::config, 9});
    SyncMessage raw = parent.receive();
    EXPECT_EQ(raw.type, SyncType::listener_fd);
    EXPECT_EQ(raw.payload, "config:9");
    EXPECT_GT(raw.sender_pid, 0);  // SCM_CREDENTIALS on the parent's end
}

TEST(SyncMessages, AnotherMessageOrAnErrorIsThrown) {
    auto [parent, child] = SyncChannel::make_pair();
    send_message(child, ConsoleFdMessage{4});
    EXPECT_THROW(expect_message<ListenerFdMessage>(parent), Error);
    child.send(SyncType::error, "mount /proc: EBUSY");
    try {
        expect_message<GoMessage>(parent);
        FAIL() << "an error message must be thrown";
    } catch (const Error& e) {
        EXPECT_STREQ(e.what(), "mount /proc: EBUSY");
    }
}

TEST(TakeFd, DuplicatesTheNumberedFdOfTheProcess) {
    int pipe_fds[2];
    ASSERT_EQ(::pipe2(pipe_fds, O_CLOEXEC), 0);
    UniqueFd read_end(pipe_fds[0]), write_end(pipe_fds[1]);
    UniqueFd self(static_cast<int>(::syscall(SYS_pidfd_open, ::getpid(), 0)));
    ASSERT_TRUE(self);
    UniqueFd copy = take_fd(self.get(), write_end.get(), "the test pipe");
    struct stat original, taken;
    ASSERT_EQ(::fstat(write_end.get(), &original), 0);
    ASSERT_EQ(::fstat(copy.get(), &taken), 0);
    EXPECT_EQ(original.st_ino, taken.st_ino);
    EXPECT_NE(copy.get(), write_end.get());
    EXPECT_THROW(take_fd(self.get(), 100000, "no such fd"), Error);
}

}  // namespace
}  // namespace tether::os
