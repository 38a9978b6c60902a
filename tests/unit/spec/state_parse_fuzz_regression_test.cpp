// Inputs the fuzzers found; each once escaped the parser as a foreign exception.
#include <gtest/gtest.h>

#include "spec/parse_error.hpp"
#include "spec/state_parse.hpp"

namespace tether::spec {
namespace {

TEST(StateParseFuzzRegression, NumberOutOfRangeIsAParseError) {
    // nlohmann throws out_of_range (not parse_error) for 1e400.
    EXPECT_THROW(parse_state(R"({"ociVersion":"1.2.0","id":"a","status":"running","pid":1e400})"), ParseError);
    EXPECT_THROW(parse_state("1e400"), ParseError);
}

}  // namespace
}  // namespace tether::spec
