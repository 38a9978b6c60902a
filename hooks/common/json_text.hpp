// Reading back the daemon's own decision lines (flat objects of strings and
// numbers) for `tether-netd decisions`. They are written with the one JSON
// string writer of the tree, runtime/core/json_escape.hpp.
#pragma once

#include <string>
#include <string_view>

#include "runtime/core/json_escape.hpp"

namespace tether::hooks {

// Reads the JSON string starting at text[pos] (which must be '"'); returns
// the unescaped value and moves pos past the closing quote. Understands
// exactly what tether::append_json_string writes plus \/ \b \f and \uXXXX (BMP).
// Returns false on malformed input.
bool read_json_string(std::string_view text, size_t& pos, std::string& value);

}  // namespace tether::hooks
