// `list --format json`: an array of container states with runc's keys.
#pragma once

#include <string>
#include <vector>

#include "spec/state.hpp"

namespace tether::spec {

std::string states_to_json_array(const std::vector<State>& states);

}  // namespace tether::spec
