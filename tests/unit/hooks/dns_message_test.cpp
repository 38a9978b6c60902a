// The DNS wire format of the container's resolver (hooks/dns/dns_message.hpp).
#include "hooks/dns/dns_message.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/unit/hooks/dns_query_support.hpp"

namespace tether::hooks::dns {
namespace {

Query parse(const std::vector<uint8_t>& bytes) { return parse_query(bytes.data(), bytes.size()); }

TEST(DnsMessage, ParsesOneQuestionLowerCased) {
    Query q = parse(query_bytes("API.Example.com", kTypeAAAA));
    ASSERT_EQ(q.status, ParseStatus::ok);
    EXPECT_EQ(q.id, 0x1234);
    EXPECT_TRUE(q.recursion_desired);
    EXPECT_EQ(q.name, "api.example.com");
    EXPECT_EQ(q.type, kTypeAAAA);
    EXPECT_EQ(q.klass, kClassIN);
}

TEST(DnsMessage, IgnoresShortPacketsAndResponses) {
    EXPECT_EQ(parse({1, 2, 3}).status, ParseStatus::ignore);
    EXPECT_EQ(parse(query_bytes("a.example", kTypeA, 0x8100)).status, ParseStatus::ignore);
    EXPECT_TRUE(build_response(parse({1, 2}), Answer{}).empty());
}

TEST(DnsMessage, OtherOpcodesAreNotImplemented) {
    Query q = parse(query_bytes("a.example", kTypeA, 0x2800));  // UPDATE
    EXPECT_EQ(q.status, ParseStatus::notimp);
    std::vector<uint8_t> r = build_response(q, Answer{});
    ASSERT_EQ(r.size(), 12u);
    EXPECT_EQ(r[3] & 0xf, 4);
}

TEST(DnsMessage, MalformedQuestionsAreFormErr) {
    std::vector<uint8_t> two = query_bytes("a.example", kTypeA);
    two[5] = 2;  // QDCOUNT 2
    EXPECT_EQ(parse(two).status, ParseStatus::formerr);

    std::vector<uint8_t> truncated = query_bytes("a.example", kTypeA);
    truncated.resize(truncated.size() - 3);
    EXPECT_EQ(parse(truncated).status, ParseStatus::formerr);

    // A compression pointer in the question.
    std::vector<uint8_t> pointer = {0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1};
    EXPECT_EQ(parse(pointer).status, ParseStatus::formerr);

    // A label with a dot inside ("example.com" as one label) must not pass as
    // the two-label name it would print as.
    std::vector<uint8_t> dotted = {0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 11};
    for (char c : std::string("example.com")) dotted.push_back(static_cast<uint8_t>(c));
    dotted.insert(dotted.end(), {0, 0, 1, 0, 1});
    EXPECT_EQ(parse(dotted).status, ParseStatus::formerr);

    // Longer than 255 bytes on the wire.
    std::string long_name;
    for (int i = 0; i < 5; ++i) long_name += std::string(60, 'a') + ".";
    long_name += "example";
    EXPECT_EQ(parse(query_bytes(long_name, kTypeA)).status, ParseStatus::formerr);

    Query q = parse(two);
    std::vector<uint8_t> r = build_response(q, Answer{});
    ASSERT_EQ(r.size(), 12u);
    EXPECT_EQ(r[0], 0x12);
    EXPECT_EQ(r[3] & 0xf, 1);
    EXPECT_EQ(r[5], 0);  // no question echoed
}

TEST(DnsMessage, AnswersARecordsAfterTheQuestion) {
    std::vector<uint8_t> bytes = query_bytes("a.example", kTypeA);
    Query q = parse(bytes);
    Answer answer;
    answer.a = {{192, 0, 2, 10}, {192, 0, 2, 11}};
    answer.aaaa = {{}};  // not asked for: left out
    answer.ttl = 60;
    std::vector<uint8_t> r = build_response(q, answer);
    ASSERT_EQ(r.size(), bytes.size() + 2 * 16);
    EXPECT_EQ(r[0], 0x12);
    EXPECT_EQ(r[1], 0x34);
    EXPECT_EQ(r[2], 0x81);  // QR, RD
    EXPECT_EQ(r[3], 0x80);  // RA, NOERROR
    EXPECT_EQ(r[7], 2);     // ANCOUNT
    EXPECT_TRUE(std::equal(bytes.begin() + 12, bytes.end(), r.begin() + 12));
    size_t rr = bytes.size();
    EXPECT_EQ(r[rr], 0xc0);
    EXPECT_EQ(r[rr + 1], 12);
    EXPECT_EQ(r[rr + 3], kTypeA);
    EXPECT_EQ(r[rr + 9], 60);  // TTL low byte
    EXPECT_EQ(r[rr + 11], 4);  // RDLENGTH
    EXPECT_EQ(r[rr + 12], 192);
    EXPECT_EQ(r[rr + 15], 10);
}

TEST(DnsMessage, ErrorsCarryNoRecords) {
    Query q = parse(query_bytes("a.example", kTypeA));
    Answer answer;
    answer.rcode = Rcode::nxdomain;
    answer.a = {{192, 0, 2, 10}};
    std::vector<uint8_t> r = build_response(q, answer);
    EXPECT_EQ(r[3] & 0xf, 3);
    EXPECT_EQ(r[7], 0);
}

TEST(DnsMessage, RecordsAreCappedSoTheReplyFitsUdp) {
    std::string name;
    for (int i = 0; i < 3; ++i) name += std::string(63, 'x') + ".";
    name += std::string(61, 'y');
    Query q = parse(query_bytes(name, kTypeAAAA));
    ASSERT_EQ(q.status, ParseStatus::ok);
    Answer answer;
    answer.aaaa.resize(40);
    std::vector<uint8_t> r = build_response(q, answer);
    EXPECT_EQ(r[7], kMaxRecords);
    EXPECT_LE(r.size(), 512u);
}

TEST(DnsMessage, TypeNames) {
    EXPECT_EQ(type_name(16), "TXT");
    EXPECT_EQ(type_name(255), "ANY");
    EXPECT_EQ(type_name(999), "999");
}

}  // namespace
}  // namespace tether::hooks::dns
