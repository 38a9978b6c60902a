// linux.seccomp -> libseccomp, checked through libseccomp's own rendering of
// the filter (seccomp_export_pfc): what would be loaded, without loading it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "runtime/core/error.hpp"
#include "runtime/security/seccomp_filter.hpp"
#include "seccomp_rules.hpp"
#include "tests/unit/error_message.hpp"

namespace tether::security {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

using test::allow_by_default;
using test::rule;

std::string pfc_of(const spec::Seccomp& seccomp) {
    Warnings warnings;
    return build_seccomp_filter(seccomp, warnings).export_pfc();
}

std::string error_of(const spec::Seccomp& seccomp) {
    Warnings warnings;
    return test_support::error_message<Error>([&] { build_seccomp_filter(seccomp, warnings); });
}

TEST(SeccompTranslation, ErrnoRetBecomesTheReturnedErrno) {
    auto pfc = pfc_of(allow_by_default({rule({"mkdir"}, "SCMP_ACT_ERRNO", {}, 123)}));
    EXPECT_THAT(pfc, HasSubstr("# filter for syscall \"mkdir\""));
    EXPECT_THAT(pfc, HasSubstr("action ERRNO(123);"));
}

TEST(SeccompTranslation, ErrnoWithoutErrnoRetIsEperm) {
    auto pfc = pfc_of(allow_by_default({rule({"mkdir"}, "SCMP_ACT_ERRNO")}));
    EXPECT_THAT(pfc, HasSubstr("action ERRNO(1);"));
}

TEST(SeccompTranslation, DefaultErrnoRetIsTheDefaultAction) {
    spec::Seccomp s;
    s.default_action = "SCMP_ACT_ERRNO";
    s.default_errno_ret = 38;
    s.syscalls = {rule({"read", "write"}, "SCMP_ACT_ALLOW")};
    auto pfc = pfc_of(s);
    EXPECT_THAT(pfc, HasSubstr("# default action\n  action ERRNO(38);"));
    EXPECT_THAT(pfc, HasSubstr("# filter for syscall \"write\""));
}

TEST(SeccompTranslation, EveryActionName) {
    spec::Seccomp s = allow_by_default({
        rule({"mkdir"}, "SCMP_ACT_KILL"),
        rule({"rmdir"}, "SCMP_ACT_KILL_PROCESS"),
        rule({"chdir"}, "SCMP_ACT_KILL_THREAD"),
        rule({"umask"}, "SCMP_ACT_TRAP"),
        rule({"getppid"}, "SCMP_ACT_LOG"),
        rule({"getpgrp"}, "SCMP_ACT_TRACE", {}, 7),
        rule({"sync"}, "SCMP_ACT_NOTIFY"),
    });
    auto pfc = pfc_of(s);
    EXPECT_THAT(pfc, HasSubstr("if ($syscall == 83)\n    action KILL;"));          // mkdir
    EXPECT_THAT(pfc, HasSubstr("if ($syscall == 84)\n    action KILL_PROCESS;"));  // rmdir
    EXPECT_THAT(pfc, HasSubstr("if ($syscall == 80)\n    action KILL;"));          // chdir
    EXPECT_THAT(pfc, HasSubstr("action TRAP;"));
    EXPECT_THAT(pfc, HasSubstr("action LOG;"));
    EXPECT_THAT(pfc, HasSubstr("action TRACE(7);"));
    EXPECT_THAT(pfc, HasSubstr("action 0x7fc00000;"));  // NOTIFY, unnamed by libseccomp 2.5
}

TEST(SeccompTranslation, ArchitecturesAddFilterSections) {
    spec::Seccomp s = allow_by_default({rule({"mkdir"}, "SCMP_ACT_ERRNO")});
    s.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
    auto pfc = pfc_of(s);
    EXPECT_THAT(pfc, HasSubstr("# filter for arch x86_64 "));
    EXPECT_THAT(pfc, HasSubstr("# filter for arch x86 "));
    EXPECT_THAT(pfc, HasSubstr("# filter for arch x32 "));
    // mkdir is 39 in the i386 table.
    EXPECT_THAT(pfc, HasSubstr("if ($syscall == 39)\n    action ERRNO(1);"));

    auto native_only = pfc_of(allow_by_default({rule({"mkdir"}, "SCMP_ACT_ERRNO")}));
    EXPECT_THAT(native_only, Not(HasSubstr("# filter for arch x86 ")));
}

TEST(SeccompTranslation, UnknownArchitectureIsNamed) {
    spec::Seccomp s = allow_by_default({});
    s.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_PDP11"};
    EXPECT_THAT(error_of(s), HasSubstr("linux.seccomp.architectures[1]"));
    EXPECT_THAT(error_of(s), HasSubstr("SCMP_ARCH_PDP11"));
}

TEST(SeccompTranslation, UnknownSyscallNamesAreSkippedWithAWarning) {
    Warnings warnings;
    auto filter = build_seccomp_filter(
        allow_by_default({rule({"no_such_syscall", "mkdir"}, "SCMP_ACT_ERRNO")}), warnings);
    ASSERT_EQ(warnings.size(), 1u);
    EXPECT_THAT(warnings[0], HasSubstr("no_such_syscall"));
    EXPECT_THAT(filter.export_pfc(), HasSubstr("# filter for syscall \"mkdir\""));
}

TEST(SeccompTranslation, OperatorsAppearInTheFilter) {
    spec::Seccomp s = allow_by_default({
        rule({"umask"}, "SCMP_ACT_ERRNO", {{0, 0x12, 0, "SCMP_CMP_EQ"}}),
        rule({"personality"}, "SCMP_ACT_ERRNO", {{0, 0xff, 0x08, "SCMP_CMP_MASKED_EQ"}}),
        rule({"getpriority"}, "SCMP_ACT_ERRNO", {{1, 7, 0, "SCMP_CMP_GT"}}),
        rule({"setpgid"}, "SCMP_ACT_ERRNO", {{1, 9, 0, "SCMP_CMP_GE"}}),
    });
    s.architectures = {"SCMP_ARCH_X86"};  // 32-bit section: one comparison per arg
    auto pfc = pfc_of(s);
    EXPECT_THAT(pfc, HasSubstr("if ($a0 == 18)"));
    // MASKED_EQ: value is the mask, valueTwo the datum.
    EXPECT_THAT(pfc, HasSubstr("if ($a0 & 0x000000ff == 8)"));
    EXPECT_THAT(pfc, HasSubstr("if ($a1 > 7)"));
    EXPECT_THAT(pfc, HasSubstr("if ($a1 >= 9)"));
}

TEST(SeccompTranslation, ConditionsOnOneArgumentBecomeSeparateRules) {
    // Two conditions on a0: ANDing them is impossible in libseccomp; runc
    // adds one rule per condition.
    auto pfc = pfc_of(allow_by_default({rule(
        {"umask"}, "SCMP_ACT_ERRNO", {{0, 5, 0, "SCMP_CMP_EQ"}, {0, 6, 0, "SCMP_CMP_EQ"}})}));
    EXPECT_THAT(pfc, HasSubstr("if ($a0.lo32 == 5)"));
    EXPECT_THAT(pfc, HasSubstr("if ($a0.lo32 == 6)"));
}

TEST(SeccompTranslation, RuleWithTheDefaultActionIsDropped) {
    auto pfc = pfc_of(allow_by_default({rule({"mkdir"}, "SCMP_ACT_ALLOW")}));
    EXPECT_THAT(pfc, Not(HasSubstr("\"mkdir\"")));
}

TEST(SeccompTranslation, RefusedInputsNameTheField) {
    EXPECT_THAT(error_of(allow_by_default({rule({"mkdir"}, "SCMP_ACT_EXPLODE")})),
                HasSubstr("linux.seccomp.syscalls[0].action: unknown seccomp action \"SCMP_ACT_EXPLODE\""));
    EXPECT_THAT(error_of(allow_by_default({rule({"mkdir"}, "SCMP_ACT_ERRNO", {{0, 1, 0, "SCMP_CMP_SIMILAR"}})})),
                HasSubstr("linux.seccomp.syscalls[0].args[0].op"));
    EXPECT_THAT(error_of(allow_by_default({rule({"mkdir"}, "SCMP_ACT_ERRNO", {{6, 1, 0, "SCMP_CMP_EQ"}})})),
                HasSubstr("linux.seccomp.syscalls[0].args[0].index"));
    EXPECT_THAT(error_of(allow_by_default({rule({"mkdir"}, "SCMP_ACT_KILL", {}, 5)})),
                HasSubstr("errnoRet is only valid"));
    EXPECT_THAT(error_of(allow_by_default({rule({"write"}, "SCMP_ACT_NOTIFY")})),
                HasSubstr("cannot be used for the write syscall"));

    spec::Seccomp notify_default = allow_by_default({});
    notify_default.default_action = "SCMP_ACT_NOTIFY";
    EXPECT_THAT(error_of(notify_default), HasSubstr("cannot be the default action"));

    spec::Seccomp bad_flag = allow_by_default({});
    bad_flag.flags = {"SECCOMP_FILTER_FLAG_MAGIC"};
    EXPECT_THAT(error_of(bad_flag), HasSubstr("linux.seccomp.flags[0]"));
}

TEST(SeccompTranslation, FlagsBecomeLibseccompAttributes) {
    spec::Seccomp s = allow_by_default({rule({"sync"}, "SCMP_ACT_NOTIFY")});
    s.flags = {"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
               "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"};
    Warnings warnings;
    auto filter = build_seccomp_filter(s, warnings);
    uint32_t value = 0;
    ASSERT_EQ(seccomp_attr_get(filter.get(), SCMP_FLTATR_CTL_TSYNC, &value), 0);
    EXPECT_EQ(value, 1u);
    ASSERT_EQ(seccomp_attr_get(filter.get(), SCMP_FLTATR_CTL_LOG, &value), 0);
    EXPECT_EQ(value, 1u);
    ASSERT_EQ(seccomp_attr_get(filter.get(), SCMP_FLTATR_CTL_SSB, &value), 0);
    EXPECT_EQ(value, 1u);
    // no_new_privs stays the config's business, not libseccomp's.
    ASSERT_EQ(seccomp_attr_get(filter.get(), SCMP_FLTATR_CTL_NNP, &value), 0);
    EXPECT_EQ(value, 0u);
    EXPECT_TRUE(filter.wait_killable_recv);
    EXPECT_TRUE(filter.uses_notify);
}

TEST(SeccompTranslation, UsesNotify) {
    EXPECT_TRUE(uses_notify(allow_by_default({rule({"sync"}, "SCMP_ACT_NOTIFY")})));
    EXPECT_FALSE(uses_notify(allow_by_default({rule({"sync"}, "SCMP_ACT_ERRNO")})));
}

}  // namespace
}  // namespace tether::security
