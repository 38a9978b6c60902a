// Test-only: turns a seccomp profile JSON (the linux.seccomp object of a
// config.json) into spec::Seccomp, and expands podman's/Docker's profile
// *templates* (archMap, includes, excludes) the way their clients do before
// the runtime ever sees them. nlohmann is used here only because this is test
// scaffolding; the runtime gets spec::Seccomp from spec/.
#pragma once

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "spec/config.hpp"

namespace tether::security::test {

inline nlohmann::json read_json_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return nlohmann::json::parse(text.str());
}

inline std::vector<std::string> strings_of(const nlohmann::json& value) {
    std::vector<std::string> out;
    if (value.is_array())
        for (const auto& item : value) out.push_back(item.get<std::string>());
    return out;
}

inline spec::Seccomp seccomp_from_json(const nlohmann::json& json) {
    spec::Seccomp seccomp;
    seccomp.default_action = json.at("defaultAction").get<std::string>();
    if (json.contains("defaultErrnoRet") && !json["defaultErrnoRet"].is_null())
        seccomp.default_errno_ret = json["defaultErrnoRet"].get<uint32_t>();
    if (json.contains("architectures")) seccomp.architectures = strings_of(json["architectures"]);
    if (json.contains("flags")) seccomp.flags = strings_of(json["flags"]);
    for (const auto& rule_json : json.value("syscalls", nlohmann::json::array())) {
        spec::SeccompSyscall rule;
        rule.names = strings_of(rule_json.at("names"));
        rule.action = rule_json.at("action").get<std::string>();
        if (rule_json.contains("errnoRet") && !rule_json["errnoRet"].is_null())
            rule.errno_ret = rule_json["errnoRet"].get<uint32_t>();
        if (rule_json.contains("args") && rule_json["args"].is_array())
            for (const auto& arg_json : rule_json["args"]) {
                spec::SeccompArg arg;
                arg.index = arg_json.at("index").get<uint32_t>();
                arg.value = arg_json.value("value", uint64_t{0});
                arg.value_two = arg_json.value("valueTwo", uint64_t{0});
                arg.op = arg_json.at("op").get<std::string>();
                rule.args.push_back(arg);
            }
        seccomp.syscalls.push_back(rule);
    }
    return seccomp;
}

// Expands a moby/containers-common template for x86_64 ("amd64") and the
// given capabilities: includes.arches / includes.caps must all match,
// excludes.arches / excludes.caps must not.
inline nlohmann::json expand_profile_template(const nlohmann::json& tmpl,
                                              const std::vector<std::string>& caps) {
    auto contains = [](const std::vector<std::string>& list, const std::string& item) {
        return std::find(list.begin(), list.end(), item) != list.end();
    };
    nlohmann::json out;
    out["defaultAction"] = tmpl.at("defaultAction");
    if (tmpl.contains("defaultErrnoRet")) out["defaultErrnoRet"] = tmpl["defaultErrnoRet"];
    out["architectures"] = nlohmann::json::array();
    for (const auto& entry : tmpl.value("archMap", nlohmann::json::array()))
        if (entry.at("architecture") == "SCMP_ARCH_X86_64") {
            out["architectures"].push_back(entry["architecture"]);
            for (const auto& sub : strings_of(entry.value("subArchitectures", nlohmann::json())))
                out["architectures"].push_back(sub);
        }
    out["syscalls"] = nlohmann::json::array();
    for (const auto& rule : tmpl.at("syscalls")) {
        auto includes = rule.value("includes", nlohmann::json::object());
        auto excludes = rule.value("excludes", nlohmann::json::object());
        if (includes.is_null()) includes = nlohmann::json::object();
        if (excludes.is_null()) excludes = nlohmann::json::object();
        auto inc_arches = strings_of(includes.value("arches", nlohmann::json()));
        auto inc_caps = strings_of(includes.value("caps", nlohmann::json()));
        auto exc_arches = strings_of(excludes.value("arches", nlohmann::json()));
        auto exc_caps = strings_of(excludes.value("caps", nlohmann::json()));
        if (!inc_arches.empty() && !contains(inc_arches, "amd64")) continue;
        if (std::any_of(inc_caps.begin(), inc_caps.end(),
                        [&](const auto& c) { return !contains(caps, c); }))
            continue;
        if (contains(exc_arches, "amd64")) continue;
        if (std::any_of(exc_caps.begin(), exc_caps.end(),
                        [&](const auto& c) { return contains(caps, c); }))
            continue;
        nlohmann::json expanded;
        expanded["names"] = rule.at("names");
        expanded["action"] = rule.at("action");
        if (rule.contains("errnoRet") && !rule["errnoRet"].is_null())
            expanded["errnoRet"] = rule["errnoRet"];
        if (rule.contains("args") && rule["args"].is_array()) expanded["args"] = rule["args"];
        out["syscalls"].push_back(expanded);
    }
    return out;
}

// The capabilities podman and Docker give a container by default.
inline std::vector<std::string> default_container_caps() {
    return {"CAP_CHOWN",   "CAP_DAC_OVERRIDE",     "CAP_FOWNER",      "CAP_FSETID",
            "CAP_KILL",    "CAP_NET_BIND_SERVICE", "CAP_SETFCAP",     "CAP_SETGID",
            "CAP_SETPCAP", "CAP_SETUID",           "CAP_SYS_CHROOT"};
}

}  // namespace tether::security::test
