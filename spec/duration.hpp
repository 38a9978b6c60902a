// Durations an administrator writes in a flag or an environment variable:
// a positive whole number and a unit, "500ms", "30s", "10m", "2h".
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace tether::spec {

// Throws ParseError naming `field`, e.g.
// `--proxy-idle-timeout: "10x": expected a whole number followed by ms, s, m or h (e.g. 30s)`.
// Zero and values above `max` are refused.
std::chrono::milliseconds parse_duration(std::string_view text, std::string_view field,
                                         std::chrono::milliseconds max);

// "1500ms": the form the runtime passes on to tether-netd (parse_duration reads it back).
std::string duration_to_string(std::chrono::milliseconds value);

}  // namespace tether::spec
