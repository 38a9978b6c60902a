// ContainerProcessState JSON and its delivery with the listener fd.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "runtime/core/error.hpp"
#include "runtime/security/seccomp_listener.hpp"
#include "receive_with_fd.hpp"
#include "spec/process_state.hpp"
#include "tests/unit/scratch_dir.hpp"

namespace tether::security {
namespace {

using ::testing::HasSubstr;

spec::ContainerProcessState sample_state() {
    spec::ContainerProcessState ps;
    ps.pid = 4422;
    ps.metadata = "MKNOD=/dev/null";
    ps.state.id = "web-1";
    ps.state.status = "creating";
    ps.state.pid = 4422;
    ps.state.bundle = "/bundles/web-1";
    ps.state.annotations = {{"io.example/key", "va\"lue"}};
    return ps;
}

TEST(ProcessState, JsonHasTheRuntimeSpecFields) {
    auto json = nlohmann::json::parse(spec::container_process_state_to_json(sample_state()));
    EXPECT_EQ(json["ociVersion"], "1.2.0");
    EXPECT_EQ(json["fds"], nlohmann::json::array({"seccompFd"}));
    EXPECT_EQ(json["pid"], 4422);
    EXPECT_EQ(json["metadata"], "MKNOD=/dev/null");
    EXPECT_EQ(json["state"]["id"], "web-1");
    EXPECT_EQ(json["state"]["status"], "creating");
    EXPECT_EQ(json["state"]["pid"], 4422);
    EXPECT_EQ(json["state"]["bundle"], "/bundles/web-1");
    EXPECT_EQ(json["state"]["annotations"]["io.example/key"], "va\"lue");
}

TEST(ProcessState, EmptyMetadataAndAnnotationsAreOmitted) {
    spec::ContainerProcessState ps = sample_state();
    ps.metadata.clear();
    ps.state.annotations.clear();
    auto json = nlohmann::json::parse(spec::container_process_state_to_json(ps));
    EXPECT_FALSE(json.contains("metadata"));
    EXPECT_FALSE(json["state"].contains("annotations"));
}

TEST(SeccompListener, SendsTheFdAndTheStateInOneMessage) {
    const test_support::ScratchDir dir("listener");
    std::string path = dir.path() + "/agent.sock";
    int server = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strcpy(address.sun_path, path.c_str());
    ASSERT_EQ(bind(server, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    ASSERT_EQ(listen(server, 1), 0);

    int pipe_fds[2];
    ASSERT_EQ(pipe2(pipe_fds, O_CLOEXEC), 0);
    // Large enough that a stream socket may split it.
    std::string state = spec::container_process_state_to_json(sample_state());
    state += std::string(300000, ' ');

    std::thread sender([&] { send_seccomp_listener(path, pipe_fds[1], state); });

    int conn = accept4(server, nullptr, nullptr, SOCK_CLOEXEC);
    ASSERT_GE(conn, 0);
    test::ReceivedWithFd received = test::receive_to_eof_with_fd(conn);
    int received_fd = received.fd;
    sender.join();
    close(conn);
    close(server);

    EXPECT_EQ(received.text, state);
    ASSERT_GE(received_fd, 0);
    EXPECT_TRUE(received.fd_with_first_bytes);
    // The received fd is the same pipe: what goes in comes out.
    ASSERT_EQ(write(received_fd, "x", 1), 1);
    char c = 0;
    ASSERT_EQ(read(pipe_fds[0], &c, 1), 1);
    EXPECT_EQ(c, 'x');
    close(received_fd);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
}

TEST(SeccompListener, MissingSocketNamesThePath) {
    std::string error;
    try {
        send_seccomp_listener("/nonexistent/agent.sock", 0, "{}");
    } catch (const Error& e) {
        error = e.what();
    }
    EXPECT_THAT(error, HasSubstr("/nonexistent/agent.sock"));
}

}  // namespace
}  // namespace tether::security
