#include "runtime/linux/mount_options.hpp"

#include <sys/mount.h>

#include <map>

namespace tether::os {
namespace {

struct FlagOption {
    bool clear;
    unsigned long flag;
};

const std::map<std::string, FlagOption>& flag_options() {
    static const std::map<std::string, FlagOption> table = {
        {"async", {true, MS_SYNCHRONOUS}},  {"atime", {true, MS_NOATIME}},
        {"defaults", {false, 0}},           {"dev", {true, MS_NODEV}},
        {"diratime", {true, MS_NODIRATIME}}, {"dirsync", {false, MS_DIRSYNC}},
        {"exec", {true, MS_NOEXEC}},        {"iversion", {false, MS_I_VERSION}},
        {"lazytime", {false, MS_LAZYTIME}}, {"loud", {true, MS_SILENT}},
        {"mand", {false, MS_MANDLOCK}},     {"noatime", {false, MS_NOATIME}},
        {"nodev", {false, MS_NODEV}},       {"nodiratime", {false, MS_NODIRATIME}},
        {"noexec", {false, MS_NOEXEC}},     {"noiversion", {true, MS_I_VERSION}},
        {"nolazytime", {true, MS_LAZYTIME}}, {"nomand", {true, MS_MANDLOCK}},
        {"norelatime", {true, MS_RELATIME}}, {"nostrictatime", {true, MS_STRICTATIME}},
        {"nosuid", {false, MS_NOSUID}},     {"nosymfollow", {false, 256 /* MS_NOSYMFOLLOW */}},
        {"relatime", {false, MS_RELATIME}}, {"remount", {false, MS_REMOUNT}},
        {"ro", {false, MS_RDONLY}},         {"rw", {true, MS_RDONLY}},
        {"silent", {false, MS_SILENT}},     {"strictatime", {false, MS_STRICTATIME}},
        {"suid", {true, MS_NOSUID}},        {"sync", {false, MS_SYNCHRONOUS}},
    };
    return table;
}

const std::map<std::string, unsigned long>& propagation_options() {
    static const std::map<std::string, unsigned long> table = {
        {"private", MS_PRIVATE},         {"rprivate", MS_PRIVATE | MS_REC},
        {"shared", MS_SHARED},           {"rshared", MS_SHARED | MS_REC},
        {"slave", MS_SLAVE},             {"rslave", MS_SLAVE | MS_REC},
        {"unbindable", MS_UNBINDABLE},   {"runbindable", MS_UNBINDABLE | MS_REC},
    };
    return table;
}

}  // namespace

MountFlags parse_mount_options(const std::vector<std::string>& options) {
    MountFlags result;
    for (const auto& option : options) {
        if (option == "bind") {
            result.bind = true;
        } else if (option == "rbind") {
            result.bind = true;
            result.recursive_bind = true;
        } else if (option == "idmap" || option == "ridmap") {
            result.idmap = true;
        } else if (auto flag = flag_options().find(option); flag != flag_options().end()) {
            if (flag->second.clear) {
                result.flags &= ~flag->second.flag;
                result.clear |= flag->second.flag;
            } else {
                result.flags |= flag->second.flag;
                result.clear &= ~flag->second.flag;
            }
        } else if (auto prop = propagation_options().find(option); prop != propagation_options().end()) {
            result.propagation = prop->second;
        } else if (option == "tmpcopyup" || option.rfind("x-", 0) == 0) {
            // runc extensions and userspace-only options: nothing for the kernel.
        } else {
            if (!result.data.empty()) result.data += ",";
            result.data += option;
        }
    }
    return result;
}

unsigned long parse_rootfs_propagation(const std::string& value) {
    if (value.empty()) return MS_SLAVE | MS_REC;
    auto prop = propagation_options().find(value);
    return prop == propagation_options().end() ? (MS_SLAVE | MS_REC) : prop->second;
}

}  // namespace tether::os
