// libFuzzer target: update --resources parsing (spec::parse_resources). Only
// spec::ParseError may escape the parser.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "spec/config.hpp"
#include "tests/fuzz/parse_target.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    return tether::fuzz::only_parse_errors_escape(data, size,
                                                  [](std::string_view text) { return tether::spec::parse_resources(text); });
}
