// The one JSON string writer outside spec/ (log lines of the runtime and
// decision lines of tether-netd); whole documents are built in spec/ with
// nlohmann_json. Control characters and DEL (0x7f) become \uXXXX; bytes >=
// 0x80 are copied unchanged (paths and comm names: UTF-8 or opaque bytes the
// reader decides how to show).
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

namespace tether {

// Appends `text` to `out` as a quoted JSON string.
inline void append_json_string(std::string& out, std::string_view text) {
    out.push_back('"');
    for (unsigned char c : text) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (c < 0x20 || c == 0x7f) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", c);
                    out += buf;
                } else {
                    out.push_back(static_cast<char>(c));
                }
        }
    }
    out.push_back('"');
}

inline std::string json_quote(std::string_view text) {
    std::string out;
    out.reserve(text.size() + 2);
    append_json_string(out, text);
    return out;
}

}  // namespace tether
