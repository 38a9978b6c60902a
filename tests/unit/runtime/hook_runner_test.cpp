// OCI hooks as run by tether: argv, env (only the hook's), state on stdin,
// working directory, exit status and timeout.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "runtime/core/error.hpp"
#include "runtime/linux/hook_runner.hpp"
#include "tests/unit/scratch_dir.hpp"

namespace tether {
namespace {

namespace fs = std::filesystem;

class HookRunner : public ::testing::Test {
protected:
    // A /bin/sh hook running `script`; its output file is dir_/out.
    spec::Hook hook(const std::string& script) {
        spec::Hook h;
        h.path = "/bin/sh";
        h.args = {"sh", "-c", script, "hook-arg0", dir_ + "/out"};
        return h;
    }
    std::string out() {
        std::ifstream in(dir_ + "/out");
        std::stringstream s;
        s << in.rdbuf();
        return s.str();
    }

    test_support::ScratchDir scratch_{"hook-test"};
    const std::string dir_ = scratch_.path();
};

TEST_F(HookRunner, StateOnStdinArgsAndOnlyTheHooksEnv) {
    ::setenv("TETHER_HOOK_TEST_LEAK", "leaked", 1);
    spec::Hook h = hook("{ cat; echo \"|$0|$FOO|${TETHER_HOOK_TEST_LEAK:-unset}\"; } >\"$1\"");
    h.env = {"FOO=bar"};
    os::run_hook("prestart", h, "{\"status\":\"creating\"}", "");
    EXPECT_EQ(out(), "{\"status\":\"creating\"}|hook-arg0|bar|unset\n");
    ::unsetenv("TETHER_HOOK_TEST_LEAK");
}

TEST_F(HookRunner, RunsInTheGivenWorkingDirectory) {
    fs::create_directory(dir_ + "/bundle");
    os::run_hook("prestart", hook("pwd -P >\"$1\""), "{}", dir_ + "/bundle");
    EXPECT_EQ(out(), fs::canonical(dir_ + "/bundle").string() + "\n");
}

TEST_F(HookRunner, EmptyWorkingDirectoryKeepsOurs) {
    os::run_hook("startContainer", hook("pwd -P >\"$1\""), "{}", "");
    EXPECT_EQ(out(), fs::canonical(fs::current_path()).string() + "\n");
}

TEST_F(HookRunner, AWorkingDirectoryThatCannotBeOpenedFailsNamingIt) {
    try {
        os::run_hook("poststop", hook("touch \"$1\""), "{}", dir_ + "/missing");
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("poststop hook /bin/sh"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find(dir_ + "/missing"), std::string::npos) << e.what();
    }
    EXPECT_FALSE(fs::exists(dir_ + "/out"));  // the hook never ran
}

TEST_F(HookRunner, AHookThatCannotBeExecutedSaysWhy) {
    spec::Hook missing;
    missing.path = dir_ + "/no-such-hook";
    try {
        os::run_hook("prestart", missing, "{}", "");
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("prestart hook " + missing.path + ": exec: No such file or directory"),
                  std::string::npos)
            << e.what();
    }
}

TEST_F(HookRunner, NonZeroExitFailsWithTheStatus) {
    try {
        os::run_hook("createRuntime", hook("exit 3"), "{}", "");
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("createRuntime hook /bin/sh failed with exit status 3"),
                  std::string::npos)
            << e.what();
    }
}

TEST_F(HookRunner, PastItsTimeoutTheHookIsKilledAndFails) {
    spec::Hook h = hook("echo $$ >\"$1\"; exec sleep 600");
    h.timeout = 1;
    auto begin = std::chrono::steady_clock::now();
    try {
        os::run_hook("prestart", h, "{}", "");
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("timeout of 1s"), std::string::npos) << e.what();
    }
    EXPECT_LT(std::chrono::steady_clock::now() - begin, std::chrono::seconds(10));
    pid_t pid = std::atoi(out().c_str());
    ASSERT_GT(pid, 0);
    EXPECT_NE(::kill(pid, 0), 0);  // killed and reaped
}

// A state larger than a pipe holds (big annotations) that the hook never
// reads: writing it must not block us past the hook's timeout.
TEST_F(HookRunner, TimeoutHoldsWhileTheHookLeavesALargeStateUnread) {
    spec::Hook h = hook("exec sleep 600");
    h.timeout = 1;
    try {
        os::run_hook("prestart", h, std::string(1 << 20, 'x'), "");
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("timeout of 1s"), std::string::npos) << e.what();
    }
}

TEST_F(HookRunner, ALargeStateArrivesWhole) {
    const std::string state = "{\"annotations\":\"" + std::string(1 << 20, 'a') + "\"}";
    os::run_hook("prestart", hook("cat >\"$1\""), state, "");
    EXPECT_EQ(out(), state);
}

TEST_F(HookRunner, CollectErrorsRunsEveryHook) {
    std::vector<spec::Hook> hooks = {hook("exit 6"), hook("echo second >>\"$1\"")};
    auto errors = os::run_hooks_collect_errors("poststop", hooks, "{}", dir_);
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_NE(errors[0].find("exit status 6"), std::string::npos);
    EXPECT_EQ(out(), "second\n");
}

// StartedHook: create starts the sandbox's tether-netd this way and goes on.
// The hook below waits for a file only the test makes after the constructor
// returned: a constructor that waited for the hook would see it give up.
TEST_F(HookRunner, AStartedHookRunsWhileTheCallerGoesOn) {
    os::StartedHook started("prestart",
                            hook("cat >\"$1.state\"; i=0; while [ ! -e \"$1.go\" ]; do i=$((i+1)); "
                                 "[ $i -gt 1000 ] && exit 9; sleep 0.01; done; echo done >\"$1\""),
                            "{\"status\":\"created\"}", "");
    std::ofstream(dir_ + "/out.go") << "go";
    started.wait();
    EXPECT_EQ(out(), "done\n");
    std::ifstream state(dir_ + "/out.state");
    std::stringstream text;
    text << state.rdbuf();
    EXPECT_EQ(text.str(), "{\"status\":\"created\"}");
}

TEST_F(HookRunner, AStartedHooksFailureComesFromWait) {
    os::StartedHook started("prestart", hook("exit 3"), "{}", "");
    try {
        started.wait();
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("prestart hook /bin/sh failed with exit status 3"), std::string::npos)
            << e.what();
    }
}

TEST_F(HookRunner, AStartedHookNeverWaitedForIsWaitedForWhenDestroyed) {
    {
        os::StartedHook started("prestart", hook("sleep 0.2; echo finished >\"$1\"; exit 4"), "{}", "");
    }
    EXPECT_EQ(out(), "finished\n");
}

TEST_F(HookRunner, AStartedHookGetsALargeStateWhole) {
    const std::string state = "{\"annotations\":\"" + std::string(1 << 20, 'a') + "\"}";
    os::StartedHook started("prestart", hook("cat >\"$1\""), state, "");
    started.wait();
    EXPECT_EQ(out(), state);
}

}  // namespace
}  // namespace tether
