// Hugepage sizes a hugetlb cgroup offers, read from its file names.
#pragma once

#include <string>
#include <vector>

namespace tether::cgroups {

// Sizes ("2MB", "1GB") for which dir holds "hugetlb.<size><suffix>"
// (suffix ".limit_in_bytes" on v1, ".max" on v2); rsvd files are skipped.
std::vector<std::string> hugetlb_page_sizes_in(const std::string& dir, const std::string& suffix);

}  // namespace tether::cgroups
