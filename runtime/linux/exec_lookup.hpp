// Finding the program to exec inside the container, with the container's own
// PATH (from process.env), after pivot_root. Error texts match runc's, because
// podman maps "executable file not found in $PATH" and "no such file or
// directory" to exit code 127 and "permission denied" to 126.
#pragma once

#include <string>
#include <vector>

namespace tether::os {

std::string find_executable(const std::string& name, const std::vector<std::string>& env);

}  // namespace tether::os
