#include "spec/duration.hpp"

#include <cstdint>

#include "spec/parse_error.hpp"

namespace tether::spec {

std::chrono::milliseconds parse_duration(std::string_view text, std::string_view field,
                                         std::chrono::milliseconds max) {
    auto fail = [&](const std::string& why) -> std::chrono::milliseconds {
        throw ParseError(std::string(field) + ": \"" + std::string(text) + "\": " + why);
    };
    size_t digits = 0;
    uint64_t number = 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') {
        number = number * 10 + static_cast<uint64_t>(text[digits] - '0');
        // Past any sane duration: stop before the multiplication below can overflow.
        if (number > 1'000'000'000'000ull) return fail("too large (at most " + duration_to_string(max) + ")");
        ++digits;
    }
    std::string_view unit = text.substr(digits);
    uint64_t scale = 0;
    if (unit == "ms") scale = 1;
    else if (unit == "s") scale = 1000;
    else if (unit == "m") scale = 60'000;
    else if (unit == "h") scale = 3'600'000;
    if (digits == 0 || scale == 0) return fail("expected a whole number followed by ms, s, m or h (e.g. 30s)");
    if (number == 0) return fail("must be greater than 0");
    std::chrono::milliseconds value(number * scale);
    if (value > max) return fail("too large (at most " + duration_to_string(max) + ")");
    return value;
}

std::string duration_to_string(std::chrono::milliseconds value) { return std::to_string(value.count()) + "ms"; }

}  // namespace tether::spec
