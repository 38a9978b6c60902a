// The closed sets of names the runtime-spec allows (rlimits, seccomp actions,
// operators, architectures and flags, hook phases, namespace types). The
// parser validates against them and features.json advertises them, so both
// always agree.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "spec/config.hpp"

namespace tether::spec {

using NameList = std::vector<std::string_view>;

bool list_contains(const NameList& list, std::string_view name);

// "RLIMIT_AS" .. "RLIMIT_STACK" (all 16 Linux rlimits).
const NameList& rlimit_names();
// RLIMIT_NOFILE -> the <sys/resource.h> resource number; nullopt if unknown.
std::optional<int> rlimit_resource(std::string_view name);

const NameList& seccomp_action_names();    // SCMP_ACT_*
const NameList& seccomp_operator_names();  // SCMP_CMP_*
const NameList& seccomp_arch_names();      // SCMP_ARCH_*
const NameList& seccomp_flag_names();      // SECCOMP_FILTER_FLAG_*

// Hook phases in the order they run: prestart, createRuntime, ...
const NameList& hook_names();

// pid network mount ipc uts user cgroup time.
const NameList& namespace_type_names();
std::optional<NamespaceType> namespace_type_from_name(std::string_view name);

// Values allowed in linux.rootfsPropagation ("" included).
const NameList& rootfs_propagation_names();

// Mount options the runtime understands (what `features` advertises).
const NameList& known_mount_options();

}  // namespace tether::spec
