#include "runtime/cgroups/hugetlb_sizes.hpp"

#include <dirent.h>

#include <algorithm>

namespace tether::cgroups {

std::vector<std::string> hugetlb_page_sizes_in(const std::string& dir, const std::string& suffix) {
    std::vector<std::string> sizes;
    DIR* stream = ::opendir(dir.c_str());
    if (!stream) return sizes;
    const std::string prefix = "hugetlb.";
    while (const dirent* entry = ::readdir(stream)) {
        const std::string name = entry->d_name;
        if (name.rfind(prefix, 0) != 0 || name.size() <= prefix.size() + suffix.size()) continue;
        if (name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) continue;
        const std::string size = name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
        if (size.find('.') != std::string::npos) continue;  // "2MB.rsvd"
        sizes.push_back(size);
    }
    ::closedir(stream);
    std::sort(sizes.begin(), sizes.end());
    return sizes;
}

}  // namespace tether::cgroups
