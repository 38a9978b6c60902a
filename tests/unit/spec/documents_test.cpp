// features.json, the default config and the name tables behind them.
#include <gtest/gtest.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "spec/capability_names.hpp"
#include "spec/default_config.hpp"
#include "spec/features.hpp"
#include "spec/vocabulary.hpp"

using namespace tether::spec;
using nlohmann::json;

TEST(CapabilityNames, NumbersMatchLinuxCapabilityH) {
    EXPECT_EQ(capability_number("CAP_CHOWN"), 0);
    EXPECT_EQ(capability_number("CAP_NET_ADMIN"), 12);
    EXPECT_EQ(capability_number("CAP_SYS_ADMIN"), 21);
    EXPECT_EQ(capability_number("CAP_AUDIT_READ"), 37);
    EXPECT_EQ(capability_number("CAP_CHECKPOINT_RESTORE"), 40);
    EXPECT_EQ(all_capability_names().size(), 41u);
    EXPECT_FALSE(capability_number("CAP_BOGUS"));
    EXPECT_FALSE(capability_number("cap_chown"));
    EXPECT_FALSE(capability_number("CHOWN"));
    for (size_t i = 0; i < all_capability_names().size(); ++i)
        EXPECT_EQ(capability_number(all_capability_names()[i]), static_cast<int>(i));
}

TEST(Vocabulary, RlimitsMapToResourceNumbers) {
    EXPECT_EQ(rlimit_names().size(), 16u);
    EXPECT_EQ(rlimit_resource("RLIMIT_NOFILE"), 7);
    EXPECT_EQ(rlimit_resource("RLIMIT_CPU"), 0);
    EXPECT_FALSE(rlimit_resource("NOFILE"));
}

TEST(Vocabulary, NamespaceNamesRoundTrip) {
    for (auto name : namespace_type_names()) {
        auto type = namespace_type_from_name(name);
        ASSERT_TRUE(type) << name;
        EXPECT_EQ(std::string_view(namespace_type_name(*type)), name);
    }
    EXPECT_STREQ(namespace_type_name(NamespaceType::network), "network");
    EXPECT_FALSE(namespace_type_from_name("net"));
}

TEST(Features, TemplateDocumentHasTheRuntimeSpecShape) {
    Features f = features_template();
    f.linux_->seccomp->enabled = true;
    f.linux_->seccomp->supported_flags = {"SECCOMP_FILTER_FLAG_LOG"};
    f.linux_->cgroup = CgroupFeatures{true, true, false, false, std::nullopt};
    f.linux_->apparmor = false;
    f.linux_->selinux = false;
    f.linux_->idmap_mounts = true;
    f.annotations = {{"io.github.seccomp.libseccomp.version", "2.5.4"}};
    json j = json::parse(features_to_json(f));

    EXPECT_EQ(j["ociVersionMin"], "1.0.0");
    EXPECT_EQ(j["ociVersionMax"], "1.2.0");
    EXPECT_EQ(j["hooks"].size(), 6u);
    EXPECT_EQ(j["hooks"][1], "createRuntime");
    EXPECT_NE(std::find(j["mountOptions"].begin(), j["mountOptions"].end(), "rbind"), j["mountOptions"].end());
    EXPECT_EQ(j["linux"]["namespaces"].size(), 8u);
    EXPECT_EQ(j["linux"]["capabilities"].size(), 41u);
    EXPECT_EQ(j["linux"]["cgroup"]["v2"], true);
    EXPECT_EQ(j["linux"]["cgroup"]["systemd"], false);
    EXPECT_FALSE(j["linux"]["cgroup"].contains("rdma"));  // unknown: omitted, not false
    EXPECT_EQ(j["linux"]["seccomp"]["enabled"], true);
    EXPECT_EQ(j["linux"]["seccomp"]["actions"].size(), 9u);
    EXPECT_EQ(j["linux"]["seccomp"]["operators"].size(), 7u);
    EXPECT_EQ(j["linux"]["seccomp"]["knownFlags"].size(), 4u);
    EXPECT_EQ(j["linux"]["seccomp"]["supportedFlags"], json({"SECCOMP_FILTER_FLAG_LOG"}));
    EXPECT_NE(std::find(j["linux"]["seccomp"]["archs"].begin(), j["linux"]["seccomp"]["archs"].end(),
                        "SCMP_ARCH_X86_64"),
              j["linux"]["seccomp"]["archs"].end());
    EXPECT_EQ(j["linux"]["apparmor"], json({{"enabled", false}}));
    EXPECT_EQ(j["linux"]["mountExtensions"]["idmap"]["enabled"], true);
    EXPECT_FALSE(j["linux"].contains("intelRdt"));
    EXPECT_EQ(j["annotations"]["io.github.seccomp.libseccomp.version"], "2.5.4");
}

TEST(Features, IndentedLikeRuncFeatures) {
    std::string text = features_to_json(features_template());
    EXPECT_EQ(text.rfind("{\n    \"ociVersionMin\": \"1.0.0\",\n    \"ociVersionMax\": \"1.2.0\",\n", 0), 0u) << text;
}

// What `runc spec` (1.1) writes, as a JSON value: tether spec must write the same document.
const char* const runc_spec_document = R"({"ociVersion":"1.0.2-dev","process":{"terminal":true,"user":{"uid":0,"gid":0},"args":["sh"],"env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","TERM=xterm"],"cwd":"/","capabilities":{"bounding":["CAP_AUDIT_WRITE","CAP_KILL","CAP_NET_BIND_SERVICE"],"effective":["CAP_AUDIT_WRITE","CAP_KILL","CAP_NET_BIND_SERVICE"],"permitted":["CAP_AUDIT_WRITE","CAP_KILL","CAP_NET_BIND_SERVICE"],"ambient":["CAP_AUDIT_WRITE","CAP_KILL","CAP_NET_BIND_SERVICE"]},"rlimits":[{"type":"RLIMIT_NOFILE","hard":1024,"soft":1024}],"noNewPrivileges":true},"root":{"path":"rootfs","readonly":true},"hostname":"runc","mounts":[{"destination":"/proc","type":"proc","source":"proc"},{"destination":"/dev","type":"tmpfs","source":"tmpfs","options":["nosuid","strictatime","mode=755","size=65536k"]},{"destination":"/dev/pts","type":"devpts","source":"devpts","options":["nosuid","noexec","newinstance","ptmxmode=0666","mode=0620","gid=5"]},{"destination":"/dev/shm","type":"tmpfs","source":"shm","options":["nosuid","noexec","nodev","mode=1777","size=65536k"]},{"destination":"/dev/mqueue","type":"mqueue","source":"mqueue","options":["nosuid","noexec","nodev"]},{"destination":"/sys","type":"sysfs","source":"sysfs","options":["nosuid","noexec","nodev","ro"]},{"destination":"/sys/fs/cgroup","type":"cgroup","source":"cgroup","options":["nosuid","noexec","nodev","relatime","ro"]}],"linux":{"resources":{"devices":[{"allow":false,"access":"rwm"}]},"namespaces":[{"type":"pid"},{"type":"network"},{"type":"ipc"},{"type":"uts"},{"type":"mount"}],"maskedPaths":["/proc/acpi","/proc/asound","/proc/kcore","/proc/keys","/proc/latency_stats","/proc/timer_list","/proc/timer_stats","/proc/sched_debug","/sys/firmware","/proc/scsi"],"readonlyPaths":["/proc/bus","/proc/fs","/proc/irq","/proc/sys","/proc/sysrq-trigger"]}})";

TEST(DefaultConfig, SameDocumentAsRuncSpec) {
    EXPECT_EQ(json::parse(default_config_json(false, 0, 0)), json::parse(runc_spec_document));
}

TEST(DefaultConfig, TabIndentedInRuncKeyOrder) {
    std::string text = default_config_json(false, 0, 0);
    EXPECT_EQ(text.rfind("{\n\t\"ociVersion\": \"1.0.2-dev\",\n\t\"process\": {\n\t\t\"terminal\": true,", 0), 0u) << text;
    EXPECT_NE(text.back(), '\n');
}

TEST(DefaultConfig, RootlessMapsTheCallerAndDropsWhatNeedsPrivilege) {
    json rootless = json::parse(default_config_json(true, 1000, 1001));
    json expected = json::parse(runc_spec_document);
    // The differences `runc spec --rootless` makes, and nothing else.
    expected["linux"].erase("resources");
    expected["linux"]["uidMappings"] = json::parse(R"([{"containerID": 0, "hostID": 1000, "size": 1}])");
    expected["linux"]["gidMappings"] = json::parse(R"([{"containerID": 0, "hostID": 1001, "size": 1}])");
    expected["linux"]["namespaces"] =
        json::parse(R"([{"type":"pid"},{"type":"ipc"},{"type":"uts"},{"type":"mount"},{"type":"user"}])");
    expected["mounts"][2]["options"].erase(5);  // gid=5
    expected["mounts"][5] = json::parse(
        R"({"destination":"/sys","type":"none","source":"/sys","options":["rbind","nosuid","noexec","nodev","ro"]})");
    EXPECT_EQ(rootless, expected) << rootless.dump(1);
}
