// libFuzzer target: the sandbox policy parser (spec::parse_policy). The input
// is split into annotations, one "key=value" per line (keys without the
// run.tether. prefix get it, so the fuzzer reaches the value parsers), and an
// optional --default-policy document after a line "---". Policy files named by
// run.tether.policy are served from the same input, so the file parser is
// reached too. Only spec::ParseError may escape.
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "spec/policy.hpp"
#include "tests/fuzz/parse_target.hpp"

namespace {

struct Input {
    std::map<std::string, std::string> annotations;
    std::optional<std::string> default_policy;
};

Input split_input(std::string_view text) {
    Input input;
    while (!text.empty()) {
        std::size_t end = text.find('\n');
        std::string_view line = text.substr(0, end);
        text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
        if (line == "---") {
            input.default_policy = std::string(text);
            break;
        }
        std::size_t eq = line.find('=');
        std::string key(line.substr(0, eq));
        std::string value(eq == std::string_view::npos ? std::string_view{} : line.substr(eq + 1));
        if (key.rfind(tether::spec::kPolicyAnnotationPrefix, 0) != 0)
            key = tether::spec::kPolicyAnnotationPrefix + key;
        input.annotations[key] = value;
    }
    return input;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    return tether::fuzz::only_parse_errors_escape(data, size, [](std::string_view text) {
        Input input = split_input(text);
        std::string file_contents = input.default_policy.value_or("{}");
        auto read_file = [&](const std::string&) { return file_contents; };
        return tether::spec::parse_policy(input.annotations, input.default_policy, read_file);
    });
}
