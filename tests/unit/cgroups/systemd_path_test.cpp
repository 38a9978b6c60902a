// cgroupsPath for --systemd-cgroup: runc's "slice:prefix:name" rules.
#include <gtest/gtest.h>

#include "runtime/cgroups/systemd_path.hpp"
#include "runtime/core/error.hpp"
#include "tests/unit/error_message.hpp"

namespace tether::cgroups {
namespace {

std::string error_of(const std::string& path) {
    return test_support::error_message<Error>([&] { parse_systemd_cgroups_path(path, "c1"); });
}

TEST(SystemdPath, SliceExpansionFollowsRunc) {
    EXPECT_EQ(expand_slice("-.slice"), "/");
    EXPECT_EQ(expand_slice("system.slice"), "/system.slice");
    EXPECT_EQ(expand_slice("a-b.slice"), "/a.slice/a-b.slice");
    EXPECT_EQ(expand_slice("a-b-c.slice"), "/a.slice/a-b.slice/a-b-c.slice");
    EXPECT_THROW(expand_slice("a--b.slice"), Error);
    EXPECT_THROW(expand_slice("-a.slice"), Error);
    EXPECT_THROW(expand_slice("a-.slice"), Error);
    EXPECT_THROW(expand_slice(".slice"), Error);
    EXPECT_THROW(expand_slice("a/b.slice"), Error);
}

TEST(SystemdPath, ThreeFieldsMakeAScopeInTheSlice) {
    auto p = parse_systemd_cgroups_path("machine.slice:libpod:abc", "c1");
    EXPECT_EQ(p.slice, "machine.slice");
    EXPECT_EQ(p.unit, "libpod-abc.scope");
    EXPECT_EQ(p.cgroup_path(), "/machine.slice/libpod-abc.scope");
}

TEST(SystemdPath, EmptySliceIsSystemSlice) {
    auto p = parse_systemd_cgroups_path(":cri:abc", "c1");
    EXPECT_EQ(p.slice, "system.slice");
    EXPECT_EQ(p.cgroup_path(), "/system.slice/cri-abc.scope");
}

TEST(SystemdPath, RootSliceAndNestedSlices) {
    EXPECT_EQ(parse_systemd_cgroups_path("-.slice:p:n", "c1").cgroup_path(), "/p-n.scope");
    EXPECT_EQ(parse_systemd_cgroups_path("a-b.slice:p:n", "c1").cgroup_path(), "/a.slice/a-b.slice/p-n.scope");
}

TEST(SystemdPath, EmptyPathIsTheDefaultWithTheContainerId) {
    auto p = parse_systemd_cgroups_path("", "c1");
    EXPECT_EQ(p.unit, "tether-c1.scope");
    EXPECT_EQ(p.cgroup_path(), "/system.slice/tether-c1.scope");
}

TEST(SystemdPath, EmptyPrefixGivesTheBareName) {
    EXPECT_EQ(parse_systemd_cgroups_path("system.slice::n", "c1").unit, "n.scope");
}

TEST(SystemdPath, BadShapesAreRefusedNamingTheField) {
    for (const char* bad : {"a:b", "a:b:c:d", "/sys/fs/cgroup/x", "a:b:"}) {
        const std::string error = error_of(bad);
        EXPECT_NE(error.find("linux.cgroupsPath"), std::string::npos) << bad << ": " << error;
    }
    EXPECT_NE(error_of("a:b").find("slice:prefix:name"), std::string::npos);
    EXPECT_NE(error_of("user:p:n").find("does not end in \".slice\""), std::string::npos);
    EXPECT_NE(error_of("system.slice:p:..").find("\"..\""), std::string::npos);
    EXPECT_NE(error_of("system.slice:p:a..b").find("name"), std::string::npos);
    EXPECT_NE(error_of("system.slice:..:n").find("prefix"), std::string::npos);
    EXPECT_NE(error_of("system.slice:p:a/b").find("name"), std::string::npos);
    EXPECT_NE(error_of("system.slice:p:x.slice").find("slice"), std::string::npos);
}

}  // namespace
}  // namespace tether::cgroups
