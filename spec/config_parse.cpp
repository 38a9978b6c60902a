// config.json: the top level (ociVersion, root, mounts, hostname, hooks,
// annotations); process and linux have their own files.
#include <string>

#include "spec/parse_parts.hpp"
#include "spec/vocabulary.hpp"

namespace tether::spec {

namespace {

void check_oci_version(const JsonNode& node) {
    std::string version = node.as_nonempty_string();
    // Every 1.x config is forward-compatible with our parser (unknown fields
    // are ignored); a 2.x document may mean something else entirely.
    if (version.rfind("1.", 0) != 0)
        node.fail("unsupported version " + quote_for_message(version) + ", expected 1.x");
}

Root read_root(const JsonNode& node) {
    node.require_object();
    Root root;
    root.path = node.member("path").as_nonempty_string();
    root.readonly = node.optional_bool("readonly", false);
    return root;
}

Mount read_mount(const JsonNode& node) {
    node.require_object();
    Mount mount;
    mount.destination = node.member("destination").as_absolute_path();
    mount.type = node.optional_string("type");
    mount.source = node.optional_string("source");
    mount.options = node.optional_string_array("options");
    mount.uid_mappings = read_id_mappings(node, "uidMappings");
    mount.gid_mappings = read_id_mappings(node, "gidMappings");
    return mount;
}

Hook read_hook(const JsonNode& node) {
    node.require_object();
    Hook hook;
    hook.path = node.member("path").as_absolute_path();
    hook.args = node.optional_string_array("args");
    hook.env = read_env(node, "env");
    hook.timeout = node.maybe_integer<int>("timeout", 1);
    return hook;
}

std::vector<Hook> read_hook_list(const JsonNode& hooks, std::string_view phase) {
    std::vector<Hook> list;
    hooks.for_each_item(phase, [&](const JsonNode& item, size_t) { list.push_back(read_hook(item)); });
    return list;
}

Hooks read_hooks(const JsonNode& node) {
    node.require_object();
    Hooks hooks;
    hooks.prestart = read_hook_list(node, "prestart");
    hooks.create_runtime = read_hook_list(node, "createRuntime");
    hooks.create_container = read_hook_list(node, "createContainer");
    hooks.start_container = read_hook_list(node, "startContainer");
    hooks.poststart = read_hook_list(node, "poststart");
    hooks.poststop = read_hook_list(node, "poststop");
    return hooks;
}

std::map<std::string, std::string> read_annotations(const JsonNode& node) {
    auto annotations = node.as_string_map();
    // runtime-spec: "Keys MUST NOT be an empty string".
    if (annotations.count("")) node.fail("keys must not be empty");
    return annotations;
}

}  // namespace

std::vector<IdMapping> read_id_mappings(const JsonNode& parent, std::string_view key) {
    std::vector<IdMapping> mappings;
    parent.for_each_item(key, [&](const JsonNode& item, size_t) {
        item.require_object();
        IdMapping m;
        m.container_id = item.required_integer<uint32_t>("containerID");
        m.host_id = item.required_integer<uint32_t>("hostID");
        m.size = item.required_integer<uint32_t>("size", 1);
        mappings.push_back(m);
    });
    return mappings;
}

std::vector<std::string> read_env(const JsonNode& parent, std::string_view key) {
    std::vector<std::string> env;
    parent.for_each_item(key, [&](const JsonNode& item, size_t) {
        std::string entry = item.as_string();
        auto equals = entry.find('=');
        if (equals == std::string::npos || equals == 0)
            item.fail("expected \"KEY=VALUE\" with a non-empty KEY");
        env.push_back(std::move(entry));
    });
    return env;
}

std::string read_one_of(const JsonNode& node, const std::vector<std::string_view>& allowed) {
    std::string value = node.as_string();
    if (list_contains(allowed, value)) return value;
    std::string choices;
    for (size_t i = 0; i < allowed.size(); ++i) {
        if (i) choices += i + 1 == allowed.size() ? " or " : ", ";
        choices += quote_for_message(allowed[i]);
    }
    node.fail("expected one of " + choices + ", got " + quote_for_message(value));
}

Config parse_config(std::string_view json_text) {
    const nlohmann::json document = parse_json_document(json_text, "config.json");
    JsonNode top(document, "", "config.json");
    top.require_object();

    Config config;
    auto version = top.member("ociVersion");
    check_oci_version(version);
    config.oci_version = version.as_string();
    config.root = read_root(top.member("root"));
    top.for_each_item("mounts", [&](const JsonNode& item, size_t) { config.mounts.push_back(read_mount(item)); });
    if (auto process = top.optional_member("process")) config.process = read_process(*process);
    config.hostname = top.optional_string("hostname");
    config.domainname = top.optional_string("domainname");
    if (auto hooks = top.optional_member("hooks")) config.hooks = read_hooks(*hooks);
    if (auto annotations = top.optional_member("annotations")) config.annotations = read_annotations(*annotations);
    if (auto linux_node = top.optional_member("linux")) config.linux_ = read_linux(*linux_node);
    check_config_consistency(config);
    return config;
}

}  // namespace tether::spec
