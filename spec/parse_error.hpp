// The one error spec/ throws: a message that starts with the JSON path (or
// annotation name) of the offending value, e.g.
// "process.args: expected a non-empty array of strings".
#pragma once

#include <stdexcept>
#include <string>

namespace tether::spec {

class ParseError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

}  // namespace tether::spec
