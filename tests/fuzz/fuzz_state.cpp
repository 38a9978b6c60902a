// libFuzzer target: state.json parsing (spec::parse_state), the document
// hooks and the state store read back. Only spec::ParseError may escape.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "spec/state_parse.hpp"
#include "tests/fuzz/parse_target.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    return tether::fuzz::only_parse_errors_escape(data, size,
                                                  [](std::string_view text) { return tether::spec::parse_state(text); });
}
