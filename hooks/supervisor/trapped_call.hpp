// One trapped socket call, from the notification to the reply: the order
// that makes the check binding is told at the top of trapped_call.cpp.
#pragma once

#include <linux/seccomp.h>

#include <memory>

#include "hooks/supervisor/supervisor_state.hpp"

namespace tether::hooks {

// Answers one notification: decides, performs the allowed call itself and
// replies, possibly later from a worker thread (blocking calls). Never
// throws; every path sends exactly one reply, or none when the caller is
// gone.
void handle_notification(const std::shared_ptr<SupervisorState>& state, const seccomp_notif& notification);

}  // namespace tether::hooks
