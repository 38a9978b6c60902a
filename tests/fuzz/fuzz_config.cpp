// libFuzzer target: config.json parsing (spec::parse_config). Any input must
// either parse or throw spec::ParseError; anything else (another exception,
// a crash, a sanitizer report) is a bug.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "spec/config.hpp"
#include "tests/fuzz/parse_target.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    return tether::fuzz::only_parse_errors_escape(data, size,
                                                  [](std::string_view text) { return tether::spec::parse_config(text); });
}
