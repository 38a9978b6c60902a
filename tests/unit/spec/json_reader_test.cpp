// The typed reader every parser in spec/ is built on: integer ranges at their
// exact boundaries, type confusion, null handling and message hygiene.
#include <gtest/gtest.h>

#include <functional>

#include "spec/json_reader.hpp"
#include "tests/unit/error_message.hpp"

using namespace tether::spec;
using nlohmann::json;

namespace {

std::string error_of(const std::function<void()>& fn) {
    return tether::test_support::error_message<ParseError>(fn);
}

}  // namespace

TEST(JsonReader, UnsignedBoundariesAreExact) {
    json doc = json::parse(R"({"max32": 4294967295, "over32": 4294967296, "max64": 18446744073709551615, "neg": -1})");
    JsonNode node(doc, "x");
    EXPECT_EQ(node.required_integer<uint32_t>("max32"), 4294967295u);
    EXPECT_EQ(error_of([&] { node.required_integer<uint32_t>("over32"); }),
              "x.over32: expected an integer between 0 and 4294967295");
    EXPECT_EQ(node.required_integer<uint64_t>("max64"), UINT64_MAX);
    EXPECT_EQ(error_of([&] { node.required_integer<uint64_t>("neg"); }),
              "x.neg: expected an integer between 0 and 18446744073709551615");
}

TEST(JsonReader, SignedBoundariesAreExact) {
    json doc = json::parse(
        R"({"min": -9223372036854775808, "max": 9223372036854775807, "over": 9223372036854775808, "int": 2147483648})");
    JsonNode node(doc, "");
    EXPECT_EQ(node.required_integer<int64_t>("min"), INT64_MIN);
    EXPECT_EQ(node.required_integer<int64_t>("max"), INT64_MAX);
    EXPECT_EQ(error_of([&] { node.required_integer<int64_t>("over"); }),
              "over: expected an integer between -9223372036854775808 and 9223372036854775807");
    EXPECT_EQ(error_of([&] { node.required_integer<int>("int"); }),
              "int: expected an integer between -2147483648 and 2147483647");
}

TEST(JsonReader, FloatsStringsAndBoolsAreNotIntegers) {
    json doc = json::parse(R"({"f": 1.0, "s": "1", "b": true})");
    JsonNode node(doc, "n");
    for (const char* key : {"f", "s", "b"})
        EXPECT_EQ(error_of([&] { node.required_integer<uint16_t>(key); }),
                  std::string("n.") + key + ": expected an integer between 0 and 65535");
}

TEST(JsonReader, NullCountsAsAbsent) {
    json doc = json::parse(R"({"a": null})");
    JsonNode node(doc, "");
    EXPECT_FALSE(node.has("a"));
    EXPECT_FALSE(node.optional_member("a"));
    EXPECT_EQ(node.optional_string("a", "fallback"), "fallback");
    EXPECT_EQ(error_of([&] { node.member("a"); }), "a: missing (required)");
}

TEST(JsonReader, RootErrorsUseTheDocumentLabel) {
    json doc = json::parse("[1]");
    EXPECT_EQ(error_of([&] { JsonNode(doc, "", "process.json").require_object(); }), "process.json: expected an object");
    EXPECT_EQ(error_of([&] { JsonNode(doc, "", "process.json").item(0).as_string(); }), "[0]: expected a string");
}

TEST(JsonReader, InvalidJsonKeepsOnlyTheReason) {
    EXPECT_EQ(error_of([] { parse_json_document("{]", "state.json"); }),
              "state.json: invalid JSON at byte 2: syntax error while parsing object key - unexpected ']'; "
              "expected string literal");
}

TEST(JsonReader, MessagesQuoteControlCharactersAndCutLongValues) {
    EXPECT_EQ(quote_for_message("a\"b\\c\n\x01"), R"("a\"b\\c\u000a\u0001")");
    std::string quoted = quote_for_message(std::string(1000, 'y'));
    EXPECT_EQ(quoted, "\"" + std::string(80, 'y') + "...\"");
}
