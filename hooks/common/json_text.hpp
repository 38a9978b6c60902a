// A small hand-written JSON string escaper for the daemon's log lines. The
// daemon writes flat objects of strings and numbers only; nlohmann_json stays
// in spec/ (see DESIGN.md).
#pragma once

#include <string>
#include <string_view>

namespace tether::hooks {

// Appends `text` to `out` as a quoted JSON string. Control characters become
// \uXXXX; bytes >= 0x80 are copied unchanged (the inputs are paths and comm
// names, which are UTF-8 or opaque bytes the reader decides how to show).
void append_json_string(std::string& out, std::string_view text);

// Reads the JSON string starting at text[pos] (which must be '"'); returns
// the unescaped value and moves pos past the closing quote. Understands
// exactly what append_json_string writes plus \/ \b \f and \uXXXX (BMP).
// Returns false on malformed input.
bool read_json_string(std::string_view text, size_t& pos, std::string& value);

}  // namespace tether::hooks
