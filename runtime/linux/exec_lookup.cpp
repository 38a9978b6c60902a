#include "runtime/linux/exec_lookup.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include "runtime/core/error.hpp"

namespace tether::os {
namespace {

std::string path_variable(const std::vector<std::string>& env) {
    for (const auto& entry : env)
        if (entry.rfind("PATH=", 0) == 0) return entry.substr(5);
    return "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
}

bool is_executable_file(const std::string& path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

}  // namespace

std::string find_executable(const std::string& name, const std::vector<std::string>& env) {
    if (name.find('/') != std::string::npos) {
        struct stat st;
        if (::stat(name.c_str(), &st) != 0)
            throw Error("exec: \"" + name + "\": stat " + name + ": no such file or directory");
        if (S_ISDIR(st.st_mode) || ::access(name.c_str(), X_OK) != 0)
            throw Error("exec: \"" + name + "\": permission denied");
        return name;
    }
    std::string path = path_variable(env);
    size_t pos = 0;
    bool denied = false;
    while (pos <= path.size()) {
        size_t next = path.find(':', pos);
        if (next == std::string::npos) next = path.size();
        std::string dir = path.substr(pos, next - pos);
        if (dir.empty()) dir = ".";
        std::string candidate = dir + "/" + name;
        if (is_executable_file(candidate)) return candidate;
        if (::access(candidate.c_str(), F_OK) == 0) denied = true;
        pos = next + 1;
    }
    if (denied) throw Error("exec: \"" + name + "\": permission denied");
    throw Error("exec: \"" + name + "\": executable file not found in $PATH");
}

}  // namespace tether::os
