// make_path_in_root walks one component at a time below the last
// (open_child) and falls back to a lookup of the whole prefix in the root
// where a component is a symlink or "..": whatever the walk meets, what it
// makes and opens stays inside the root.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "runtime/core/error.hpp"
#include "runtime/linux/path_in_root.hpp"
#include "tests/unit/error_message.hpp"
#include "tests/unit/scratch_dir.hpp"

namespace tether::os {
namespace {

namespace fs = std::filesystem;
using test_support::ScratchDir;

// A root with an "outside" beside it, which nothing may touch.
class MakePathInRoot : public ::testing::Test {
protected:
    void SetUp() override {
        fs::create_directories(root_path());
        fs::create_directories(outside_path());
        root_.reset(::open(root_path().c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
        ASSERT_TRUE(root_);
    }
    std::string root_path() const { return scratch_.path() + "/root"; }
    std::string outside_path() const { return scratch_.path() + "/outside"; }
    bool outside_is_empty() const { return fs::is_empty(outside_path()); }
    // The inode an fd names, to compare with what a path names.
    static ino_t inode_of(int fd) {
        struct stat st {};
        EXPECT_EQ(::fstat(fd, &st), 0);
        return st.st_ino;
    }
    static ino_t inode_of(const std::string& path) {
        struct stat st {};
        EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
        return st.st_ino;
    }

    ScratchDir scratch_{"path-in-root"};
    UniqueFd root_;
};

TEST_F(MakePathInRoot, MakesEveryMissingDirectoryAndOpensTheLast) {
    UniqueFd made = make_path_in_root(root_.get(), "/a/b/c", NodeKind::directory);
    ASSERT_TRUE(made);
    EXPECT_TRUE(fs::is_directory(root_path() + "/a/b/c"));
    EXPECT_EQ(inode_of(made.get()), inode_of(root_path() + "/a/b/c"));
}

TEST_F(MakePathInRoot, OnlyTheLastMissingMakesItInItsParent) {
    fs::create_directories(root_path() + "/dev");
    UniqueFd made = make_path_in_root(root_.get(), "/dev/pts", NodeKind::directory);
    EXPECT_TRUE(fs::is_directory(root_path() + "/dev/pts"));
    EXPECT_EQ(inode_of(made.get()), inode_of(root_path() + "/dev/pts"));
}

TEST_F(MakePathInRoot, AFileAtTheEndIsAnEmptyRegularFile) {
    UniqueFd made = make_path_in_root(root_.get(), "etc/hostname", NodeKind::file);
    EXPECT_TRUE(fs::is_regular_file(root_path() + "/etc/hostname"));
    EXPECT_EQ(fs::file_size(root_path() + "/etc/hostname"), 0u);
    EXPECT_EQ(inode_of(made.get()), inode_of(root_path() + "/etc/hostname"));
}

TEST_F(MakePathInRoot, AnExistingPathIsOpenedAsItIs) {
    fs::create_directories(root_path() + "/x/y");
    UniqueFd made = make_path_in_root(root_.get(), "/x/y", NodeKind::directory);
    EXPECT_EQ(inode_of(made.get()), inode_of(root_path() + "/x/y"));
}

// An absolute symlink on the way resolves as if the root were "/": the
// directory is made inside the root, never beside it.
TEST_F(MakePathInRoot, AnAbsoluteSymlinkOnTheWayStaysInTheRoot) {
    fs::create_directory_symlink(outside_path(), root_path() + "/link");
    // Inside the root, "/link" points at <root><outside_path>, which does not exist.
    fs::create_directories(root_path() + outside_path());
    // Two missing below it: the walk starts at the root and meets the link.
    make_path_in_root(root_.get(), "/link/sub/made", NodeKind::directory);
    EXPECT_TRUE(outside_is_empty());
    EXPECT_TRUE(fs::is_directory(root_path() + outside_path() + "/sub/made"));
}

TEST_F(MakePathInRoot, DotDotOnTheWayCannotClimbOut) {
    fs::create_directories(root_path() + "/a");
    make_path_in_root(root_.get(), "/a/../../outside/made", NodeKind::directory);
    EXPECT_TRUE(outside_is_empty());
    EXPECT_TRUE(fs::is_directory(root_path() + "/outside/made"));
}

TEST_F(MakePathInRoot, ARelativeSymlinkOnTheWayIsFollowedInside) {
    fs::create_directories(root_path() + "/real");
    fs::create_directories(root_path() + "/dir");
    fs::create_directory_symlink("../real", root_path() + "/dir/alias");
    UniqueFd made = make_path_in_root(root_.get(), "/dir/alias/made", NodeKind::directory);
    EXPECT_TRUE(fs::is_directory(root_path() + "/real/made"));
    EXPECT_EQ(inode_of(made.get()), inode_of(root_path() + "/real/made"));
}

TEST_F(MakePathInRoot, ASymlinkToNothingIsAnErrorNamingThePath) {
    fs::create_symlink("/nowhere", root_path() + "/dangling");
    std::string message =
        test_support::error_message<Error>([&] { make_path_in_root(root_.get(), "/dangling/x", NodeKind::directory); });
    EXPECT_NE(message.find("/dangling"), std::string::npos) << message;
    EXPECT_TRUE(outside_is_empty());
}

TEST_F(MakePathInRoot, AFileOnTheWayIsAnError) {
    fs::create_directories(root_path() + "/etc");
    { UniqueFd file(::open((root_path() + "/etc/passwd").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644)); }
    std::string message = test_support::error_message<Error>(
        [&] { make_path_in_root(root_.get(), "/etc/passwd/x", NodeKind::directory); });
    EXPECT_NE(message.find("/etc/passwd"), std::string::npos) << message;
}

}  // namespace
}  // namespace tether::os
