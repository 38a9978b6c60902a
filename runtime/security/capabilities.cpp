#include "runtime/security/capabilities.hpp"

#include <sys/capability.h>
#include <sys/prctl.h>

#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <fstream>
#include <memory>

#include "runtime/core/error.hpp"

namespace tether::security {
namespace {

constexpr uint64_t bit(int cap) { return uint64_t{1} << cap; }

// Frees a libcap object on every path out.
struct CapFree {
    void operator()(void* p) const { cap_free(p); }
};

uint64_t plan_set(const std::vector<std::string>& names, const char* set_name, int last_cap,
                  Warnings& warnings) {
    uint64_t mask = 0;
    for (const auto& name : names) {
        int cap = capability_from_name(name);
        if (cap < 0)
            throw Error("process.capabilities." + std::string(set_name) + ": unknown capability \"" +
                        name + "\"");
        if (cap > last_cap) {
            warnings.push_back("capability " + name + " (" + std::to_string(cap) +
                               ") is not known to the running kernel (cap_last_cap " +
                               std::to_string(last_cap) + "); skipped in the " + set_name + " set");
            continue;
        }
        mask |= bit(cap);
    }
    return mask;
}

std::string cap_name(int cap) {
    std::unique_ptr<char, CapFree> name(cap_to_name(cap));
    std::string text = name ? name.get() : std::to_string(cap);
    for (auto& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return text;
}

}  // namespace

int kernel_last_cap() {
    std::ifstream in("/proc/sys/kernel/cap_last_cap");
    int last = -1;
    if (!(in >> last) || last < 0 || last > 63)
        // Without /proc (should not happen) fall back to what libcap knows.
        return CAP_LAST_CAP;
    return last;
}

int capability_from_name(const std::string& name) {
    // cap_from_name also accepts lower case and plain numbers ("12"); the
    // OCI spec only has upper-case CAP_ names, so anything else is no name.
    if (name.size() < 5 || name.compare(0, 4, "CAP_") != 0) return -1;
    for (char c : name)
        if (!(std::isupper(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) ||
              c == '_'))
            return -1;
    cap_value_t value = 0;
    if (cap_from_name(name.c_str(), &value) != 0) return -1;
    return value;
}

CapabilityPlan plan_capabilities(const spec::Capabilities& caps, Warnings& warnings) {
    return plan_capabilities(caps, kernel_last_cap(), warnings);
}

CapabilityPlan plan_capabilities(const spec::Capabilities& caps, int last_cap,
                                 Warnings& warnings) {
    CapabilityPlan plan;
    plan.last_cap = last_cap;
    plan.bounding = plan_set(caps.bounding, "bounding", last_cap, warnings);
    plan.effective = plan_set(caps.effective, "effective", last_cap, warnings);
    plan.permitted = plan_set(caps.permitted, "permitted", last_cap, warnings);
    plan.inheritable = plan_set(caps.inheritable, "inheritable", last_cap, warnings);
    uint64_t ambient = plan_set(caps.ambient, "ambient", last_cap, warnings);

    for (int cap = 0; cap <= last_cap; ++cap) {
        if ((plan.effective & bit(cap)) && !(plan.permitted & bit(cap)))
            throw Error("process.capabilities.effective: " + cap_name(cap) +
                        " is not in the permitted set");
        // The kernel only raises an ambient capability that is permitted and
        // inheritable (PR_CAP_AMBIENT_RAISE fails with EPERM otherwise).
        if ((ambient & bit(cap)) &&
            !((plan.permitted & bit(cap)) && (plan.inheritable & bit(cap)))) {
            warnings.push_back("ambient capability " + cap_name(cap) +
                               " is not both permitted and inheritable; skipped");
            ambient &= ~bit(cap);
        }
    }
    plan.ambient = ambient;
    return plan;
}

void apply_bounding_set(const CapabilityPlan& plan) {
    for (int cap = 0; cap <= plan.last_cap; ++cap) {
        if (plan.bounding & bit(cap)) continue;
        // Once dropped from the bounding set no exec (setuid root binary,
        // file capabilities) can bring the capability back.
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0)
            throw_errno("prctl(PR_CAPBSET_DROP, " + cap_name(cap) + ")");
    }
}

void switch_user(const spec::User& user, bool setgroups_allowed) {
    if (setgroups_allowed) {
        // An empty list also matters: it drops the runtime's own supplementary
        // groups (root's), which would otherwise leak into the container.
        std::vector<gid_t> groups(user.additional_gids.begin(), user.additional_gids.end());
        if (setgroups(groups.size(), groups.data()) != 0)
            throw_errno("setgroups(" + std::to_string(groups.size()) + " groups)");
    }
    if (setresgid(user.gid, user.gid, user.gid) != 0)
        throw_errno("setresgid(" + std::to_string(user.gid) + ")");
    if (setresuid(user.uid, user.uid, user.uid) != 0)
        throw_errno("setresuid(" + std::to_string(user.uid) + ")");
    umask(user.umask ? static_cast<mode_t>(*user.umask) : 022);
}

void apply_capability_sets(const CapabilityPlan& plan) {
    std::unique_ptr<_cap_struct, CapFree> state(cap_init());
    if (!state) throw_errno("cap_init");
    for (int cap = 0; cap <= plan.last_cap; ++cap) {
        cap_value_t value = cap;
        if (plan.effective & bit(cap)) cap_set_flag(state.get(), CAP_EFFECTIVE, 1, &value, CAP_SET);
        if (plan.permitted & bit(cap)) cap_set_flag(state.get(), CAP_PERMITTED, 1, &value, CAP_SET);
        if (plan.inheritable & bit(cap))
            cap_set_flag(state.get(), CAP_INHERITABLE, 1, &value, CAP_SET);
    }
    if (cap_set_proc(state.get()) != 0) throw_errno("capset(effective, permitted, inheritable)");

    // Ambient capabilities survive exec of a non-setuid binary for a non-root
    // user; start from none so nothing the runtime held leaks through.
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0)
        throw_errno("prctl(PR_CAP_AMBIENT_CLEAR_ALL)");
    for (int cap = 0; cap <= plan.last_cap; ++cap) {
        if (!(plan.ambient & bit(cap))) continue;
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) != 0)
            throw_errno("prctl(PR_CAP_AMBIENT_RAISE, " + cap_name(cap) + ")");
    }
}

void finalize_credentials(const CapabilityPlan& plan, const spec::User& user,
                          bool setgroups_allowed) {
    apply_bounding_set(plan);
    // Without keepcaps, setresuid from 0 to non-zero clears the permitted set
    // and the capset below could not give anything back.
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) throw_errno("prctl(PR_SET_KEEPCAPS, 1)");
    switch_user(user, setgroups_allowed);
    if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) throw_errno("prctl(PR_SET_KEEPCAPS, 0)");
    apply_capability_sets(plan);
}

}  // namespace tether::security
