#include "spec/list_format.hpp"

#include <nlohmann/json.hpp>

namespace tether::spec {

std::string states_to_json_array(const std::vector<State>& states) {
    nlohmann::ordered_json array = nlohmann::ordered_json::array();
    for (const auto& s : states) {
        nlohmann::ordered_json item;
        item["ociVersion"] = s.oci_version;
        item["id"] = s.id;
        item["pid"] = s.pid;
        item["status"] = s.status;
        item["bundle"] = s.bundle;
        item["rootfs"] = s.rootfs;
        item["created"] = s.created;
        if (!s.annotations.empty()) item["annotations"] = s.annotations;
        item["owner"] = s.owner;
        array.push_back(item);
    }
    return array.dump();
}

}  // namespace tether::spec
