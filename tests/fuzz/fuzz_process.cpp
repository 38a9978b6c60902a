// libFuzzer target: exec process.json parsing (spec::parse_process). Only
// spec::ParseError may escape the parser.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "spec/config.hpp"
#include "spec/parse_error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        (void)tether::spec::parse_process(text);
    } catch (const tether::spec::ParseError&) {
    }
    return 0;
}
