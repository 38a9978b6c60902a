// OOM-kill notifications for `events`, one source per cgroup version.
#pragma once

#include <memory>
#include <string>

#include "runtime/cgroups/manager.hpp"

namespace tether::cgroups {

// v1: an eventfd registered on memory.oom_control via cgroup.event_control.
std::unique_ptr<OomEventSource> open_v1_oom_events(const std::string& memory_dir);
// v2: inotify on memory.events; the oom_kill counter tells what happened.
std::unique_ptr<OomEventSource> open_v2_oom_events(const std::string& cgroup_dir);

}  // namespace tether::cgroups
