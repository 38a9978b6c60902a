// rfc3339_now (state.json's "created") computes the UTC calendar itself:
// it must agree with gmtime_r and keep RFC 3339's shape.
#include <gtest/gtest.h>
#include <time.h>

#include <regex>
#include <string>

#include "runtime/core/log.hpp"

namespace tether {
namespace {

TEST(Rfc3339Now, IsUtcWithNanosecondsAndAgreesWithGmtime) {
    const time_t before = ::time(nullptr);
    const std::string stamp = log::rfc3339_now();
    const time_t after = ::time(nullptr);
    ASSERT_TRUE(std::regex_match(stamp, std::regex(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z)"))) << stamp;
    // The same second as gmtime_r gives for one of the instants around it.
    bool matched = false;
    for (time_t t = before; t <= after; ++t) {
        struct tm tm_utc {};
        gmtime_r(&t, &tm_utc);
        char expected[32];
        strftime(expected, sizeof expected, "%Y-%m-%dT%H:%M:%S", &tm_utc);
        matched = matched || stamp.compare(0, 19, expected) == 0;
    }
    EXPECT_TRUE(matched) << stamp;
}

}  // namespace
}  // namespace tether
