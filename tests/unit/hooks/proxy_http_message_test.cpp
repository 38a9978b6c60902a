// HTTP/1.1 parsing of the egress proxy: heads, targets, body framing.
#include <gtest/gtest.h>

#include "hooks/proxy/http_message.hpp"
#include "hooks/proxy/socks5.hpp"

namespace tether::hooks {
namespace {

TEST(ProxyHttpMessage, AbsoluteFormRewrittenToOriginFormWithoutProxyHeaders) {
    std::string raw = "GET http://Example.test:8080/a/b?c=d HTTP/1.1\r\nHost: wrong\r\n"
                      "Proxy-Authorization: Basic eA==\r\nProxy-Connection: keep-alive\r\nAccept: */*\r\n\r\n";
    ASSERT_EQ(find_head_end(raw), raw.size());
    auto head = parse_http_head(raw);
    ASSERT_TRUE(head);
    auto target = parse_absolute_http_target(head->start_line_2);
    ASSERT_TRUE(target);
    EXPECT_EQ(target->host, "Example.test");
    EXPECT_EQ(target->port, 8080);
    EXPECT_EQ(rewrite_request_for_origin(*head, *target),
              "GET /a/b?c=d HTTP/1.1\r\nHost: Example.test:8080\r\nAccept: */*\r\n\r\n");
}

TEST(ProxyHttpMessage, Targets) {
    EXPECT_EQ(parse_absolute_http_target("http://h.test")->origin_form, "/");
    EXPECT_EQ(parse_absolute_http_target("http://h.test")->port, 80);
    EXPECT_EQ(parse_authority("[::1]:443", 0)->host, "::1");
    EXPECT_FALSE(parse_authority("h.test", 0));  // CONNECT needs a port
    EXPECT_FALSE(parse_authority("allowed.test@evil.test:443", 0));
    EXPECT_FALSE(parse_authority("h.test:99999", 0));
    EXPECT_FALSE(parse_absolute_http_target("https://h.test/"));
    EXPECT_FALSE(parse_absolute_http_target("/origin-form"));
}

TEST(ProxyHttpMessage, SmugglingShapesAreRejected) {
    EXPECT_FALSE(parse_http_head("GET / HTTP/1.1\r\nHost : x\r\n\r\n"));
    auto both = parse_http_head("POST http://h/ HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n");
    ASSERT_TRUE(both);
    EXPECT_FALSE(request_body_framing(*both));
    auto two = parse_http_head("POST http://h/ HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n");
    EXPECT_FALSE(request_body_framing(*two));
}

TEST(ProxyHttpMessage, ResponseFraming) {
    auto ok = parse_http_head("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n");
    EXPECT_EQ(response_body_framing(*ok, "GET")->kind, BodyFraming::content_length);
    EXPECT_EQ(response_body_framing(*ok, "HEAD")->kind, BodyFraming::none);
    auto no_content = parse_http_head("HTTP/1.1 204 No Content\r\n\r\n");
    EXPECT_EQ(response_body_framing(*no_content, "GET")->kind, BodyFraming::none);
    auto close = parse_http_head("HTTP/1.1 200 OK\r\n\r\n");
    EXPECT_EQ(response_body_framing(*close, "GET")->kind, BodyFraming::until_close);
}

TEST(ProxyHttpMessage, ChunkedScannerFindsTheEndAcrossPieces) {
    std::string body = "4;ext=1\r\nWiki\r\n5\r\npedia\r\n0\r\nTrailer: x\r\n\r\n";
    std::string next = "GET http://h/ HTTP/1.1\r\n";
    std::string stream = body + next;
    for (size_t split = 0; split <= stream.size(); ++split) {
        ChunkedBodyScanner scanner;
        size_t used = scanner.consume(std::string_view(stream).substr(0, split));
        if (!scanner.done()) used += scanner.consume(std::string_view(stream).substr(split));
        EXPECT_TRUE(scanner.done()) << split;
        EXPECT_EQ(used, body.size()) << split;
    }
    ChunkedBodyScanner bad;
    bad.consume("zz\r\n");
    EXPECT_TRUE(bad.failed());
}

TEST(ProxySocks5, ParsesDomainAndIpRequests) {
    socks5::Greeting greeting;
    EXPECT_EQ(socks5::parse_greeting(std::string("\x05\x02\x02\x00", 4), greeting), socks5::ParseStatus::ok);
    EXPECT_TRUE(greeting.offers_no_auth);
    EXPECT_EQ(socks5::parse_greeting(std::string("\x05\x02\x02", 3), greeting), socks5::ParseStatus::incomplete);

    socks5::Request request;
    std::string by_name = std::string("\x05\x01\x00\x03\x06" "a.test" "\x01\xbb", 13);
    ASSERT_EQ(socks5::parse_request(by_name, request), socks5::ParseStatus::ok);
    EXPECT_EQ(request.host, "a.test");
    EXPECT_EQ(request.port, 443);
    EXPECT_EQ(request.size, by_name.size());
    socks5::Request v4;
    ASSERT_EQ(socks5::parse_request(std::string("\x05\x01\x00\x01\x7f\x00\x00\x01\x00\x50", 10), v4),
              socks5::ParseStatus::ok);
    EXPECT_EQ(v4.host, "127.0.0.1");
    EXPECT_EQ(v4.port, 80);
    socks5::Request bind;
    ASSERT_EQ(socks5::parse_request(std::string("\x05\x02\x00\x01\x7f\x00\x00\x01\x00\x50", 10), bind),
              socks5::ParseStatus::ok);
    EXPECT_EQ(bind.unsupported_reply, socks5::command_not_supported);
}

}  // namespace
}  // namespace tether::hooks
