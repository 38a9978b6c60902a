// Parsing the OCI state document (runtime-spec "State"), as a runtime writes
// it to a hook's stdin: ociVersion, id, status, pid, bundle, annotations.
// Pure: the JSON text in, a typed spec::State out, or a ParseError that names
// the offending field.
#pragma once

#include <string_view>

#include "spec/parse_error.hpp"
#include "spec/state.hpp"

namespace tether::spec {

// Throws ParseError("<field>: <why>") for malformed JSON, a missing "id",
// a missing "status", or fields of the wrong type. "pid" is optional (a
// stopped container has none) but must be a non-negative integer if present.
State parse_state(std::string_view json_text);

}  // namespace tether::spec
