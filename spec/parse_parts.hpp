// Internal to spec/: the readers for each part of config.json, one file per
// part (config_parse.cpp, process_parse.cpp, linux_parse.cpp,
// resources_parse.cpp, seccomp_parse.cpp). Each takes the node of its part
// and throws ParseError naming the JSON path of the first bad value.
#pragma once

#include <string_view>
#include <vector>

#include "spec/config.hpp"
#include "spec/json_reader.hpp"

namespace tether::spec {

Process read_process(const JsonNode& node);
Linux read_linux(const JsonNode& node);
Resources read_resources(const JsonNode& node);
Seccomp read_seccomp(const JsonNode& node);

// uidMappings / gidMappings arrays (linux.* and mounts[i].*), sizes > 0.
std::vector<IdMapping> read_id_mappings(const JsonNode& parent, std::string_view key);

// A "KEY=VALUE" list (process.env, hooks.*[i].env). The value is never
// echoed in errors: environments carry secrets.
std::vector<std::string> read_env(const JsonNode& parent, std::string_view key);

// Cross-field rules (sysctl vs namespaces, hostname vs uts, mappings vs
// user namespace); config_consistency.cpp.
void check_config_consistency(const Config& config);

// Reads a string member that must be one of `allowed`; the error lists them.
std::string read_one_of(const JsonNode& node, const std::vector<std::string_view>& allowed);

}  // namespace tether::spec
