// Where the runtime's own messages go, following the client contract:
// - with --log FILE the file is created even on success; with --log-format json
//   each message is one JSON object per line ({"level","msg","time"}).
// - podman decodes the WHOLE --log file as one object, so a failing verb writes
//   exactly one error object and nothing else; warnings gathered before the
//   failure are dropped from the file (they still go to stderr when stderr is
//   not the container's stdio).
// - during create/run, stdout/stderr belong to the container: nothing is printed
//   there on success.
#pragma once

#include <string>
#include <vector>

namespace tether::log {

enum class Format { text, json };

struct Options {
    std::string path;  // "" = no log file
    Format format = Format::text;
    bool debug = false;
};

// Configures the log once per process (from the global flags) and creates the
// log file if one is named.
void configure(const Options& options);

// A warning that is written to the log when the verb succeeds.
void warning(const std::string& message);
// A debug line (only with --debug; written at once).
void debug(const std::string& message);
// With --debug, "step NAME at +N us": the time since the process started, so that
// where a verb's time goes can be read off one run (docs/benchmarks.md).
void debug_step(const char* name);
// Writes the buffered warnings (called on success).
void flush_warnings();
// Writes the one error object of a failed verb, to the log file if there is one,
// else to stderr.
void error(const std::string& message);

// RFC 3339 UTC timestamp with nanoseconds, as runc writes in state.json.
std::string rfc3339_now();

}  // namespace tether::log
