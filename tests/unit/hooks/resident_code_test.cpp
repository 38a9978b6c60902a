// drop_resident_code: the daemon's executable file pages leave its RSS, and
// the process goes on running the same code (it faults back in, unchanged).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "hooks/daemon/resident_code.hpp"

namespace tether::hooks {
namespace {

// Resident file pages of this process, in KiB (RssFile of /proc/self/status).
long resident_file_kib() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("RssFile:", 0) == 0) return std::stol(line.substr(8));
    return -1;
}

// In this test process itself: the test binary's code and libc's are what
// gets dropped, and the tests after this one run on the same code, faulted
// back in.
TEST(DropResidentCode, FilePagesLeaveTheRssAndTheCodeStillRuns) {
    const long before = resident_file_kib();
    ASSERT_GT(before, 0);
    const size_t dropped = drop_resident_code();
    const long after = resident_file_kib();
    EXPECT_GT(dropped, 0u);
    // Reading /proc/self/status faults a little back in; most stays out.
    EXPECT_LT(after, before) << "RssFile " << before << " -> " << after << " KiB";
    // The same code goes on working: a string built, a file read.
    std::ostringstream out;
    out << before << ' ' << after;
    EXPECT_NE(out.str().find(' '), std::string::npos);
    EXPECT_GT(resident_file_kib(), 0);
}

}  // namespace
}  // namespace tether::hooks
