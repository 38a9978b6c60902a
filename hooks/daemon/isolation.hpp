// What tether-netd gives up once it is set up. See isolation.cpp.
#pragma once

namespace tether::hooks {

// Call after the control socket, pid file, decision log and pidfd exist.
// Throws tether::Error if a step fails (the daemon then exits: an isolation
// failure is an error, never silent).
void isolate_daemon();

}  // namespace tether::hooks
