// What every libFuzzer target here checks: the parser, given any input,
// either returns or throws spec::ParseError; anything else (another
// exception, a crash, a sanitizer report) is a bug.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "spec/parse_error.hpp"

namespace tether::fuzz {

// The body of LLVMFuzzerTestOneInput: parse(text) with the input as text.
template <typename Parse>
int only_parse_errors_escape(const std::uint8_t* data, std::size_t size, Parse parse) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        (void)parse(text);
    } catch (const spec::ParseError&) {
    }
    return 0;
}

}  // namespace tether::fuzz
