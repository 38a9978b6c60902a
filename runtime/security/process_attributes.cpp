// no_new_privs, oom_score_adj and personality: one syscall or /proc write each.
#include "runtime/security/process_attributes.hpp"

#include <fcntl.h>
#include <sys/personality.h>
#include <sys/prctl.h>

#include <array>
#include <utility>

#include "runtime/core/error.hpp"
#include "runtime/core/unique_fd.hpp"

namespace tether::security {
namespace {

// The flag names of <sys/personality.h>; the runtime-spec defines none yet,
// these are what a user would reasonably write.
constexpr std::array<std::pair<const char*, unsigned long>, 11> kPersonalityFlags{{
    {"UNAME26", UNAME26},
    {"ADDR_NO_RANDOMIZE", ADDR_NO_RANDOMIZE},
    {"FDPIC_FUNCPTRS", FDPIC_FUNCPTRS},
    {"MMAP_PAGE_ZERO", MMAP_PAGE_ZERO},
    {"ADDR_COMPAT_LAYOUT", ADDR_COMPAT_LAYOUT},
    {"READ_IMPLIES_EXEC", READ_IMPLIES_EXEC},
    {"ADDR_LIMIT_32BIT", ADDR_LIMIT_32BIT},
    {"SHORT_INODE", SHORT_INODE},
    {"WHOLE_SECONDS", WHOLE_SECONDS},
    {"STICKY_TIMEOUTS", STICKY_TIMEOUTS},
    {"ADDR_LIMIT_3GB", ADDR_LIMIT_3GB},
}};

}  // namespace

void set_no_new_privileges() {
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) throw_errno("prctl(PR_SET_NO_NEW_PRIVS)");
}

void write_oom_score_adj(int score, const ProcFs& procfs) {
    if (score < -1000 || score > 1000)
        throw Error("process.oomScoreAdj: " + std::to_string(score) + " is outside -1000..1000");
    // Never by path in the container's /proc: a mount over /proc/1 would
    // take the value (CVE-2025-52881, procfs.hpp).
    UniqueFd fd = procfs.open_for_write("self/oom_score_adj", "process.oomScoreAdj");
    std::string text = std::to_string(score);
    if (retry_eintr([&] { return write(fd.get(), text.data(), text.size()); }) !=
        static_cast<ssize_t>(text.size()))
    {
        // Going below the current minimum needs CAP_SYS_RESOURCE (EACCES).
        if (errno == EACCES)
            throw Error("write " + text +
                            " to /proc/self/oom_score_adj (lowering it needs CAP_SYS_RESOURCE)",
                        errno);
        throw_errno("write " + text + " to /proc/self/oom_score_adj");
    }
}

unsigned long personality_value(const spec::Personality& personality) {
    unsigned long value = 0;
    if (personality.domain == "LINUX")
        value = PER_LINUX;
    else if (personality.domain == "LINUX32")
        value = PER_LINUX32;
    else
        throw Error("linux.personality.domain: unknown domain \"" + personality.domain +
                    "\" (expected LINUX or LINUX32)");
    for (const auto& flag : personality.flags) {
        bool found = false;
        for (const auto& [name, bits] : kPersonalityFlags)
            if (flag == name) {
                value |= bits;
                found = true;
            }
        if (!found) throw Error("linux.personality.flags: unknown flag \"" + flag + "\"");
    }
    return value;
}

void apply_personality(const spec::Personality& personality) {
    unsigned long value = personality_value(personality);
    if (::personality(value) == -1) throw_errno("personality(" + personality.domain + ")");
}

}  // namespace tether::security
