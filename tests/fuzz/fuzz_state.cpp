// libFuzzer target: state.json parsing (spec::parse_state), the document
// hooks and the state store read back. Only spec::ParseError may escape.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "spec/parse_error.hpp"
#include "spec/state_parse.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        (void)tether::spec::parse_state(text);
    } catch (const tether::spec::ParseError&) {
    }
    return 0;
}
