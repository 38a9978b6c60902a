// Durations from an administrator's flags: a whole number and a unit; the
// error names the flag.
#include <gtest/gtest.h>

#include "spec/duration.hpp"
#include "spec/parse_error.hpp"

using namespace tether::spec;
using namespace std::chrono_literals;

namespace {
constexpr std::chrono::milliseconds kWeek = std::chrono::hours(24 * 7);
}

TEST(Duration, UnitsAreMillisecondsSecondsMinutesHours) {
    EXPECT_EQ(parse_duration("500ms", "--f", kWeek), 500ms);
    EXPECT_EQ(parse_duration("30s", "--f", kWeek), 30s);
    EXPECT_EQ(parse_duration("10m", "--f", kWeek), 10min);
    EXPECT_EQ(parse_duration("2h", "--f", kWeek), 2h);
    EXPECT_EQ(parse_duration("168h", "--f", kWeek), kWeek);
}

TEST(Duration, WhatTheRuntimePassesOnReadsBack) {
    EXPECT_EQ(duration_to_string(1500ms), "1500ms");
    EXPECT_EQ(parse_duration(duration_to_string(10min), "--f", kWeek), 10min);
}

TEST(Duration, BadValuesAreRefusedNamingTheField) {
    for (const char* bad : {"", "30", "s", "10x", "1.5s", "-1s", " 30s", "30s ", "30 s", "0s", "0ms", "169h",
                            "99999999999999999999s"}) {
        try {
            parse_duration(bad, "--proxy-idle-timeout", kWeek);
            ADD_FAILURE() << "accepted \"" << bad << "\"";
        } catch (const ParseError& e) {
            EXPECT_EQ(std::string(e.what()).rfind(std::string("--proxy-idle-timeout: \"") + bad + "\": ", 0), 0u)
                << e.what();
        }
    }
}
