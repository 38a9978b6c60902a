// libFuzzer target: config.json parsing (spec::parse_config). Any input must
// either parse or throw spec::ParseError; anything else (another exception,
// a crash, a sanitizer report) is a bug.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "spec/config.hpp"
#include "spec/parse_error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        (void)tether::spec::parse_config(text);
    } catch (const tether::spec::ParseError&) {
    }
    return 0;
}
