// What the tests of a refusal compare: the message of the exception of type
// E that `call` throws ("" when it throws none), so that a test can check the
// message names the field, flag or path. An exception of another type
// escapes and fails the test. Shared by every unit test area.
#pragma once

#include <string>
#include <utility>

namespace tether::test_support {

template <typename E, typename Call>
std::string error_message(Call&& call) {
    try {
        std::forward<Call>(call)();
    } catch (const E& error) {
        return error.what();
    }
    return "";
}

}  // namespace tether::test_support
