// state.json as `tether state` prints it, and the private stored record.
#include <gtest/gtest.h>

#include "spec/parse_error.hpp"
#include "spec/state.hpp"

using namespace tether::spec;

namespace {

State sample_state() {
    State s;
    s.oci_version = "1.2.0";
    s.id = "web-1";
    s.status = "created";
    s.pid = 4242;
    s.bundle = "/run/bundles/web-1";
    s.rootfs = "/run/bundles/web-1/rootfs";
    s.created = "2024-05-01T10:20:30.123456789Z";
    s.owner = "";
    return s;
}

}  // namespace

TEST(StateJson, MatchesRuncStateLayoutWithoutAnnotations) {
    // Keys, order and 2-space indent as `runc state` prints them, no trailing newline.
    EXPECT_EQ(state_to_json(sample_state()),
              "{\n"
              "  \"ociVersion\": \"1.2.0\",\n"
              "  \"id\": \"web-1\",\n"
              "  \"pid\": 4242,\n"
              "  \"status\": \"created\",\n"
              "  \"bundle\": \"/run/bundles/web-1\",\n"
              "  \"rootfs\": \"/run/bundles/web-1/rootfs\",\n"
              "  \"created\": \"2024-05-01T10:20:30.123456789Z\",\n"
              "  \"owner\": \"\"\n"
              "}");
}

TEST(StateJson, AnnotationsComeBeforeOwnerWhenPresent) {
    State s = sample_state();
    s.annotations = {{"a.b", "c"}};
    s.owner = "alice";
    std::string json = state_to_json(s);
    EXPECT_NE(json.find("  \"created\": \"2024-05-01T10:20:30.123456789Z\",\n"
                        "  \"annotations\": {\n"
                        "    \"a.b\": \"c\"\n"
                        "  },\n"
                        "  \"owner\": \"alice\"\n}"),
              std::string::npos)
        << json;
}

TEST(StateJson, EscapesAndSurvivesNonUtf8Paths) {
    State s = sample_state();
    s.bundle = "/tmp/a\"b\n\xff";
    std::string json = state_to_json(s);
    EXPECT_NE(json.find(R"("bundle": "/tmp/a\"b\n)"), std::string::npos) << json;
}

// `list --format json` prints the documents `state` prints, on one line:
// the same keys in the same order (runc's), annotations when present.
TEST(StateJson, ListArrayHoldsTheStateDocumentsCompact) {
    State first = sample_state();
    State second = sample_state();
    second.id = "web-2";
    second.status = "running";
    second.annotations = {{"a.b", "c"}};
    second.bundle = "/tmp/\xff";  // non-UTF-8 is replaced, as in `state`, not an exception
    EXPECT_EQ(states_to_json_array({}), "[]");
    EXPECT_EQ(states_to_json_array({first, second}),
              "[{\"ociVersion\":\"1.2.0\",\"id\":\"web-1\",\"pid\":4242,\"status\":\"created\","
              "\"bundle\":\"/run/bundles/web-1\",\"rootfs\":\"/run/bundles/web-1/rootfs\","
              "\"created\":\"2024-05-01T10:20:30.123456789Z\",\"owner\":\"\"},"
              "{\"ociVersion\":\"1.2.0\",\"id\":\"web-2\",\"pid\":4242,\"status\":\"running\","
              "\"bundle\":\"/tmp/\xef\xbf\xbd\",\"rootfs\":\"/run/bundles/web-1/rootfs\","
              "\"created\":\"2024-05-01T10:20:30.123456789Z\",\"annotations\":{\"a.b\":\"c\"},\"owner\":\"\"}]");
}

TEST(StoredState, RoundTripsEveryField) {
    StoredState in;
    in.oci = sample_state();
    in.oci.annotations = {{"run.tether.network.allowLocalOutboundPorts", "5432"}};
    in.oci.status = "running";
    in.init_start_time = 123456789012345ull;
    in.cgroup_path = "/sys/fs/cgroup/tether/web-1";
    in.own_pid_namespace = false;
    in.rootless = true;
    in.netd_pid = 77;
    in.netd_start_time = 99;

    StoredState out = parse_stored_state(stored_state_to_json(in));
    EXPECT_EQ(out.oci.oci_version, in.oci.oci_version);
    EXPECT_EQ(out.oci.id, in.oci.id);
    EXPECT_EQ(out.oci.status, "running");
    EXPECT_EQ(out.oci.pid, 4242);
    EXPECT_EQ(out.oci.bundle, in.oci.bundle);
    EXPECT_EQ(out.oci.rootfs, in.oci.rootfs);
    EXPECT_EQ(out.oci.created, in.oci.created);
    EXPECT_EQ(out.oci.annotations, in.oci.annotations);
    EXPECT_EQ(out.oci.owner, in.oci.owner);
    EXPECT_EQ(out.init_start_time, in.init_start_time);
    EXPECT_EQ(out.cgroup_path, in.cgroup_path);
    EXPECT_FALSE(out.own_pid_namespace);
    EXPECT_TRUE(out.rootless);
    EXPECT_EQ(out.netd_pid, 77);
    EXPECT_EQ(out.netd_start_time, 99u);
}

TEST(StoredState, DefaultsSurviveRoundTrip) {
    StoredState in;
    in.oci.id = "x";
    in.oci.status = "stopped";
    StoredState out = parse_stored_state(stored_state_to_json(in));
    EXPECT_TRUE(out.own_pid_namespace);
    EXPECT_FALSE(out.rootless);
    EXPECT_EQ(out.oci.pid, 0);
    EXPECT_EQ(out.netd_pid, 0);
}

TEST(StoredState, CorruptRecordsAreParseErrorsNamingTheField) {
    struct Case {
        const char* text;
        const char* expected_prefix;
    } cases[] = {
        {"", "state.json: invalid JSON at byte "},
        {"{\"oci\": {\"ociVersion\": \"1.2.0\", \"id\": \"x\", \"status\"", "state.json: invalid JSON at byte "},
        {"[]", "state.json: expected an object"},
        {"{}", "oci: missing (required)"},
        {R"({"oci": {"ociVersion": "1.2.0", "status": "created"}})", "oci.id: missing (required)"},
        {R"({"oci": {"ociVersion": "1.2.0", "id": "x", "status": "created", "pid": -5}})",
         "oci.pid: expected an integer between 0 and 2147483647"},
        {R"({"oci": {"ociVersion": "1.2.0", "id": "x", "status": "created"}, "initStartTime": "1"})",
         "initStartTime: expected an integer between 0 and 18446744073709551615"},
        {R"({"oci": {"ociVersion": "1.2.0", "id": "x", "status": "created"}, "rootless": 1})",
         "rootless: expected true or false"},
    };
    for (const auto& c : cases) {
        try {
            parse_stored_state(c.text);
            ADD_FAILURE() << "accepted: " << c.text;
        } catch (const ParseError& e) {
            EXPECT_EQ(std::string(e.what()).rfind(c.expected_prefix, 0), 0u) << e.what();
        }
    }
}
