// The sync channel itself: fds attached to a message arrive in order, and a
// child that exits with a message of ours unread still has its last word
// read (create reports the init's error, not "Connection reset by peer").
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vector>

#include "runtime/core/error.hpp"
#include "runtime/linux/sync_channel.hpp"

namespace tether::os {
namespace {

TEST(SyncChannel, FdsAttachedToAMessageArriveInOrder) {
    auto [parent, child] = SyncChannel::make_pair();
    UniqueFd null(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    UniqueFd self(::open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
    ASSERT_TRUE(null && self);
    parent.send_with_fds(SyncType::go, "state", {null.get(), self.get()});
    SyncMessage message = child.receive();
    EXPECT_EQ(message.type, SyncType::go);
    EXPECT_EQ(message.payload, "state");
    ASSERT_EQ(message.fds.size(), 2u);
    struct stat want {}, got {};
    ASSERT_EQ(::fstat(null.get(), &want), 0);
    ASSERT_EQ(::fstat(message.fds[0].get(), &got), 0);
    EXPECT_EQ(got.st_rdev, want.st_rdev);
    ASSERT_EQ(::fstat(self.get(), &want), 0);
    ASSERT_EQ(::fstat(message.fds[1].get(), &got), 0);
    EXPECT_EQ(got.st_ino, want.st_ino);
    // Close-on-exec, as every fd the runtime holds.
    EXPECT_TRUE(::fcntl(message.fds[0].get(), F_GETFD) & FD_CLOEXEC);
}

// The race CI met: the init sends `error` and exits while create's
// hooks_done sits unread in its socket. The kernel then reports a reset on
// create's end before the queued error.
TEST(SyncChannel, AChildThatExitsWithOurMessageUnreadStillHasItsErrorRead) {
    auto [parent, child] = SyncChannel::make_pair();
    child.send(SyncType::error, "linux.sysctl \"net.ipv4.no_such_key\": No such file or directory");
    parent.send(SyncType::hooks_done);  // never read
    child.close();
    SyncMessage message = parent.receive();
    EXPECT_EQ(message.type, SyncType::error);
    EXPECT_EQ(message.payload, "linux.sysctl \"net.ipv4.no_such_key\": No such file or directory");
    // Then the end of the conversation.
    EXPECT_THROW(parent.receive(), Error);
}

}  // namespace
}  // namespace tether::os
