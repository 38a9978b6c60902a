#include "runtime/cgroups/systemd_path.hpp"

#include <string_view>
#include <vector>

#include "runtime/core/error.hpp"

namespace tether::cgroups {
namespace {

constexpr std::string_view slice_suffix = ".slice";

[[noreturn]] void refuse(const std::string& path, const std::string& why) {
    throw Error("linux.cgroupsPath \"" + path + "\": " + why);
}

// systemd's unit_name_is_valid character set (letters, digits, ":-_.\");
// ':' separates the fields, and ".." or "/" would name a path, not a unit.
bool valid_unit_word(const std::string& word) {
    if (word.find("..") != std::string::npos) return false;
    for (char c : word) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                        c == '_' || c == '.' || c == '\\';
        if (!ok) return false;
    }
    return true;
}

std::vector<std::string> split(const std::string& text, char separator) {
    std::vector<std::string> parts;
    size_t start = 0;
    for (;;) {
        const size_t end = text.find(separator, start);
        parts.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
        if (end == std::string::npos) return parts;
        start = end + 1;
    }
}

}  // namespace

std::string SystemdUnitPath::cgroup_path() const { return (slice_dir == "/" ? "" : slice_dir) + "/" + unit; }

std::string expand_slice(const std::string& slice) {
    const bool has_suffix = slice.size() > slice_suffix.size() &&
                            slice.compare(slice.size() - slice_suffix.size(), slice_suffix.size(), slice_suffix) == 0;
    if (!has_suffix) throw Error("slice \"" + slice + "\" does not end in \".slice\"");
    if (!valid_unit_word(slice)) throw Error("slice \"" + slice + "\" has characters systemd does not allow in a unit name");
    const std::string name = slice.substr(0, slice.size() - slice_suffix.size());
    if (name == "-") return "/";
    // Every dash opens a level: a-b-c.slice lives in a.slice/a-b.slice/.
    std::string path, prefix;
    for (const auto& component : split(name, '-')) {
        if (component.empty()) throw Error("slice \"" + slice + "\" has an empty component (leading, trailing or double \"-\")");
        path += "/" + prefix + component + std::string(slice_suffix);
        prefix += component + "-";
    }
    return path;
}

SystemdUnitPath parse_systemd_cgroups_path(const std::string& cgroups_path, const std::string& container_id) {
    const std::string path = cgroups_path.empty() ? "system.slice:tether:" + container_id : cgroups_path;
    const std::vector<std::string> fields = split(path, ':');
    if (fields.size() != 3)
        refuse(path, "the systemd cgroup driver expects \"slice:prefix:name\" (" + std::to_string(fields.size()) +
                         " field" + (fields.size() == 1 ? "" : "s") + " given)");
    const std::string& prefix = fields[1];
    const std::string& name = fields[2];
    SystemdUnitPath out;
    out.slice = fields[0].empty() ? "system.slice" : fields[0];
    try {
        out.slice_dir = expand_slice(out.slice);
    } catch (const Error& e) {
        refuse(path, e.what());
    }
    if (name.empty()) refuse(path, "the name (third field) is empty");
    if (!valid_unit_word(name)) refuse(path, "name \"" + name + "\" is not a valid unit name (no \"/\" or \"..\")");
    if (!valid_unit_word(prefix)) refuse(path, "prefix \"" + prefix + "\" is not a valid unit name (no \"/\" or \"..\")");
    // runc makes a slice unit for a name ending in .slice; tether makes scopes only.
    if (name.size() > slice_suffix.size() && name.ends_with(slice_suffix))
        refuse(path, "name \"" + name + "\" is a slice; the container must be a scope");
    out.unit = (prefix.empty() ? "" : prefix + "-") + name + ".scope";
    return out;
}

}  // namespace tether::cgroups
