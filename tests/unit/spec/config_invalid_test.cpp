// Each malformed config.json yields one ParseError whose text names the JSON
// path and what was expected. Every case starts from one valid document and
// breaks exactly one thing (a JSON pointer set to a new value, or removed).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "spec/config.hpp"
#include "spec/parse_error.hpp"

using namespace tether::spec;

namespace {

const char* const base_config = R"JSON({
  "ociVersion": "1.2.0",
  "root": {"path": "rootfs", "readonly": true},
  "mounts": [{"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid"],
              "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}]}],
  "process": {
    "terminal": false,
    "consoleSize": {"height": 24, "width": 80},
    "user": {"uid": 0, "gid": 0, "additionalGids": [1]},
    "args": ["sh", "-c", "true"],
    "env": ["PATH=/bin", "TERM=xterm"],
    "cwd": "/",
    "capabilities": {"bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_AUDIT_WRITE"],
                     "ambient": ["CAP_KILL"]},
    "rlimits": [{"type": "RLIMIT_NOFILE", "soft": 1024, "hard": 1024},
                {"type": "RLIMIT_NPROC", "soft": 10, "hard": 20}],
    "oomScoreAdj": 100,
    "ioPriority": {"class": "IOPRIO_CLASS_IDLE"},
    "scheduler": {"policy": "SCHED_OTHER", "nice": 5, "flags": ["SCHED_FLAG_RESET_ON_FORK"]},
    "execCPUAffinity": {"initial": "0", "final": "0-1"}
  },
  "hostname": "box",
  "hooks": {"prestart": [{"path": "/usr/bin/hook", "args": ["hook"], "timeout": 5}],
            "poststop": [{"path": "/usr/bin/cleanup"}]},
  "annotations": {"a": "b"},
  "linux": {
    "namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "mount"}, {"type": "uts"}, {"type": "user"},
                   {"type": "time"}],
    "timeOffsets": {"monotonic": {"secs": 10, "nanosecs": 5}},
    "netDevices": {"eth1": {"name": "net1"}},
    "uidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}],
    "gidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}],
    "devices": [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 438}],
    "resources": {
      "devices": [{"allow": false, "access": "rwm"}, {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rw"}],
      "memory": {"limit": 1000000, "swappiness": 10},
      "cpu": {"shares": 1024, "quota": 1000},
      "pids": {"limit": 10},
      "blockIO": {"weight": 100, "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 100}]},
      "hugepageLimits": [{"pageSize": "2MB", "limit": 0}],
      "unified": {"memory.max": "max"},
      "rdma": {"mlx5_1": {"hcaHandles": 3}}
    },
    "sysctl": {"net.ipv4.ip_forward": "1"},
    "seccomp": {
      "defaultAction": "SCMP_ACT_ERRNO",
      "architectures": ["SCMP_ARCH_X86_64"],
      "flags": ["SECCOMP_FILTER_FLAG_LOG"],
      "syscalls": [{"names": ["personality"], "action": "SCMP_ACT_ALLOW", "errnoRet": 1,
                    "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]}]
    },
    "maskedPaths": ["/proc/kcore"],
    "readonlyPaths": ["/proc/sys"],
    "rootfsPropagation": "rprivate",
    "personality": {"domain": "LINUX"}
  }
})JSON";

constexpr const char* remove_it = "<remove>";

struct InvalidCase {
    const char* pointer;    // JSON pointer into base_config
    const char* new_value;  // JSON text, or remove_it
    const char* expected;   // the whole error message
};

std::string mutated(const InvalidCase& c) {
    auto doc = nlohmann::json::parse(base_config);
    nlohmann::json::json_pointer pointer(c.pointer);
    if (std::string(c.new_value) == remove_it)
        doc[pointer.parent_pointer()].erase(pointer.back());
    else
        doc[pointer] = nlohmann::json::parse(c.new_value);
    return doc.dump();
}

// Readable test names in failure output instead of a byte dump.
void PrintTo(const InvalidCase& c, std::ostream* os) { *os << c.pointer << " = " << c.new_value; }

class InvalidConfig : public testing::TestWithParam<InvalidCase> {};

}  // namespace

TEST(InvalidConfigBase, BaseDocumentIsValid) { EXPECT_NO_THROW(parse_config(base_config)); }

TEST(InvalidConfigBase, NamespacedSysctlsAndJoinedUserNamespaceAreValid) {
    auto doc = nlohmann::json::parse(base_config);
    doc["linux"]["namespaces"].push_back({{"type", "ipc"}});
    doc["linux"]["sysctl"] = {{"kernel.shmmax", "1"}, {"fs.mqueue.msg_max", "10"}, {"net.core.somaxconn", "1024"},
                              {"kernel.domainname", "example.org"}};
    // Joining an existing user namespace: its mappings are already set.
    doc["linux"]["namespaces"][4]["path"] = "/proc/1234/ns/user";
    doc["linux"].erase("uidMappings");
    doc["linux"].erase("gidMappings");
    EXPECT_NO_THROW(parse_config(doc.dump()));
}

TEST_P(InvalidConfig, NamesPathAndExpectation) {
    const InvalidCase& c = GetParam();
    std::string text = mutated(c);
    try {
        parse_config(text);
        ADD_FAILURE() << "accepted: " << text;
    } catch (const ParseError& e) {
        EXPECT_EQ(std::string(e.what()), c.expected) << "after setting " << c.pointer << " = " << c.new_value;
    }
}

// clang-format off
INSTANTIATE_TEST_SUITE_P(Top, InvalidConfig, testing::Values(
    InvalidCase{"/ociVersion", remove_it, "ociVersion: missing (required)"},
    InvalidCase{"/ociVersion", "1.2", "ociVersion: expected a non-empty string"},
    InvalidCase{"/ociVersion", R"("2.0.0")", R"(ociVersion: unsupported version "2.0.0", expected 1.x)"},
    InvalidCase{"/root", remove_it, "root: missing (required)"},
    InvalidCase{"/root", R"("rootfs")", "root: expected an object"},
    InvalidCase{"/root/path", "5", "root.path: expected a non-empty string"},
    InvalidCase{"/root/path", R"("")", "root.path: expected a non-empty string"},
    InvalidCase{"/root/readonly", R"("yes")", "root.readonly: expected true or false"},
    InvalidCase{"/mounts", "{}", "mounts: expected an array"},
    InvalidCase{"/mounts/0", R"("/proc")", "mounts[0]: expected an object"},
    InvalidCase{"/mounts/0/destination", R"("proc")", "mounts[0].destination: expected an absolute path"},
    InvalidCase{"/mounts/0/destination", remove_it, "mounts[0].destination: missing (required)"},
    InvalidCase{"/mounts/0/options/0", "1", "mounts[0].options[0]: expected a string"},
    InvalidCase{"/mounts/0/uidMappings/0/size", "0",
                "mounts[0].uidMappings[0].size: expected an integer between 1 and 4294967295"},
    InvalidCase{"/hostname", "5", "hostname: expected a string"},
    InvalidCase{"/hooks/prestart/0/path", R"("hook")", "hooks.prestart[0].path: expected an absolute path"},
    InvalidCase{"/hooks/poststop/0/timeout", "0",
                "hooks.poststop[0].timeout: expected an integer between 1 and 2147483647"},
    InvalidCase{"/hooks/prestart", "{}", "hooks.prestart: expected an array"},
    InvalidCase{"/hooks/prestart/0/env", R"(["NOEQUALS"])",
                R"(hooks.prestart[0].env[0]: expected "KEY=VALUE" with a non-empty KEY)"},
    InvalidCase{"/annotations/a", "1", "annotations.a: expected a string"},
    InvalidCase{"/annotations", "[]", "annotations: expected an object mapping strings to strings"},
    InvalidCase{"/annotations", R"({"": "x"})", "annotations: keys must not be empty"}));

INSTANTIATE_TEST_SUITE_P(Process, InvalidConfig, testing::Values(
    InvalidCase{"/process", R"("sh")", "process: expected an object"},
    InvalidCase{"/process/args", remove_it, "process.args: expected a non-empty array of strings"},
    InvalidCase{"/process/args", "[]", "process.args: expected a non-empty array of strings"},
    InvalidCase{"/process/args", R"("sh")", "process.args: expected a non-empty array of strings"},
    InvalidCase{"/process/args/1", "{}", "process.args[1]: expected a string"},
    InvalidCase{"/process/cwd", R"("work")", "process.cwd: expected an absolute path"},
    InvalidCase{"/process/cwd", R"("")", "process.cwd: expected an absolute path"},
    InvalidCase{"/process/env/1", R"("TERM")", R"(process.env[1]: expected "KEY=VALUE" with a non-empty KEY)"},
    InvalidCase{"/process/env/0", R"("=secret")", R"(process.env[0]: expected "KEY=VALUE" with a non-empty KEY)"},
    InvalidCase{"/process/env", R"("A=b")", "process.env: expected an array"},
    InvalidCase{"/process/user/uid", "-1", "process.user.uid: expected an integer between 0 and 4294967295"},
    InvalidCase{"/process/user/uid", "4294967296", "process.user.uid: expected an integer between 0 and 4294967295"},
    InvalidCase{"/process/user/gid", "1.5", "process.user.gid: expected an integer between 0 and 4294967295"},
    InvalidCase{"/process/user/gid", R"("0")", "process.user.gid: expected an integer between 0 and 4294967295"},
    InvalidCase{"/process/user/additionalGids/0", R"("wheel")",
                "process.user.additionalGids[0]: expected an integer between 0 and 4294967295"},
    InvalidCase{"/process/user/umask", "512", "process.user.umask: expected an integer between 0 and 511"},
    InvalidCase{"/process/capabilities/bounding/3", R"("CAP_BOGUS")",
                R"(process.capabilities.bounding[3]: unknown capability "CAP_BOGUS")"},
    InvalidCase{"/process/capabilities/ambient/0", R"("cap_kill")",
                R"(process.capabilities.ambient[0]: unknown capability "cap_kill")"},
    InvalidCase{"/process/capabilities/effective", R"(["CAP_KILL", 5])",
                "process.capabilities.effective[1]: expected a string"},
    InvalidCase{"/process/rlimits/0/type", R"("RLIMIT_FOO")", R"(process.rlimits[0].type: unknown rlimit "RLIMIT_FOO")"},
    InvalidCase{"/process/rlimits/0", R"({"type": "RLIMIT_NOFILE", "soft": 10, "hard": 5})",
                "process.rlimits[0]: soft limit 10 of RLIMIT_NOFILE is above its hard limit 5"},
    InvalidCase{"/process/rlimits/1/type", R"("RLIMIT_NOFILE")", "process.rlimits[1]: duplicate rlimit RLIMIT_NOFILE"},
    InvalidCase{"/process/rlimits/0/hard", remove_it, "process.rlimits[0].hard: missing (required)"},
    InvalidCase{"/process/rlimits/0/soft", "-1",
                "process.rlimits[0].soft: expected an integer between 0 and 18446744073709551615"},
    InvalidCase{"/process/rlimits/0/soft", "18446744073709551616",
                "process.rlimits[0].soft: expected an integer between 0 and 18446744073709551615"},
    InvalidCase{"/process/terminal", R"("true")", "process.terminal: expected true or false"},
    InvalidCase{"/process/oomScoreAdj", "1001", "process.oomScoreAdj: expected an integer between -1000 and 1000"},
    InvalidCase{"/process/consoleSize/width", remove_it, "process.consoleSize.width: missing (required)"},
    InvalidCase{"/process/ioPriority/class", R"("RT")",
                R"(process.ioPriority.class: expected one of "IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE" or "IOPRIO_CLASS_IDLE", got "RT")"},
    InvalidCase{"/process/ioPriority/priority", "8", "process.ioPriority.priority: expected an integer between 0 and 7"},
    InvalidCase{"/process/scheduler/policy", R"("SCHED_NORMAL")",
                R"(process.scheduler.policy: expected one of "SCHED_OTHER", "SCHED_FIFO", "SCHED_RR", "SCHED_BATCH", "SCHED_ISO", "SCHED_IDLE" or "SCHED_DEADLINE", got "SCHED_NORMAL")"},
    InvalidCase{"/process/scheduler/policy", remove_it, "process.scheduler.policy: missing (required)"},
    InvalidCase{"/process/scheduler/nice", "20", "process.scheduler.nice: expected an integer between -20 and 19"},
    InvalidCase{"/process/scheduler/flags/0", R"("SCHED_FLAG_BOGUS")",
                R"(process.scheduler.flags[0]: unknown scheduler flag "SCHED_FLAG_BOGUS")"},
    InvalidCase{"/process/execCPUAffinity/final", "1", "process.execCPUAffinity.final: expected a string"}));

INSTANTIATE_TEST_SUITE_P(Linux, InvalidConfig, testing::Values(
    InvalidCase{"/linux", "[]", "linux: expected an object"},
    InvalidCase{"/linux/namespaces/2/type", R"("net")", R"(linux.namespaces[2].type: unknown namespace type "net")"},
    InvalidCase{"/linux/namespaces/1/type", R"("pid")", R"(linux.namespaces[1]: duplicate namespace type "pid")"},
    InvalidCase{"/linux/namespaces/0/type", remove_it, "linux.namespaces[0].type: missing (required)"},
    InvalidCase{"/linux/namespaces/1/path", R"("proc/1/ns/net")", "linux.namespaces[1].path: expected an absolute path"},
    InvalidCase{"/linux/namespaces/2/type", R"("a\nb")", R"(linux.namespaces[2].type: unknown namespace type "a\u000ab")"},
    InvalidCase{"/linux/uidMappings/0/size", "0", "linux.uidMappings[0].size: expected an integer between 1 and 4294967295"},
    InvalidCase{"/linux/uidMappings/0/hostID", remove_it, "linux.uidMappings[0].hostID: missing (required)"},
    InvalidCase{"/linux/gidMappings/0/hostID", "4294967296",
                "linux.gidMappings[0].hostID: expected an integer between 0 and 4294967295"},
    InvalidCase{"/linux/devices/0/type", R"("x")", R"(linux.devices[0].type: expected "c", "b", "u" or "p", got "x")"},
    InvalidCase{"/linux/devices/0/path", R"("dev/fuse")", "linux.devices[0].path: expected an absolute path"},
    InvalidCase{"/linux/devices/0/major", remove_it, "linux.devices[0].major: missing (required)"},
    InvalidCase{"/linux/devices/0/fileMode", "65536", "linux.devices[0].fileMode: expected an integer between 0 and 65535"},
    InvalidCase{"/linux/devices/0/fileMode", "33206", "linux.devices[0].fileMode: file type bits 0100000 do not match type \"c\""},
    InvalidCase{"/linux/sysctl/net.ipv4.ip_forward", "1", "linux.sysctl.net.ipv4.ip_forward: expected a string"},
    InvalidCase{"/linux/maskedPaths/0", R"("proc/kcore")", "linux.maskedPaths[0]: expected an absolute path"},
    InvalidCase{"/linux/readonlyPaths", R"("/proc/sys")", "linux.readonlyPaths: expected an array"},
    InvalidCase{"/linux/personality/domain", R"("LINUX64")",
                R"(linux.personality.domain: expected one of "LINUX" or "LINUX32", got "LINUX64")"},
    InvalidCase{"/linux/rootfsPropagation", R"("bogus")",
                R"(linux.rootfsPropagation: expected one of "", "shared", "slave", "private", "unbindable", "rshared", "rslave", "rprivate" or "runbindable", got "bogus")"},
    InvalidCase{"/linux/cgroupsPath", "[]", "linux.cgroupsPath: expected a string"},
    InvalidCase{"/linux/timeOffsets/realtime", R"({"secs": 1})",
                R"(linux.timeOffsets.realtime: expected the clock "monotonic" or "boottime")"},
    InvalidCase{"/linux/timeOffsets/monotonic/nanosecs", "1000000000",
                "linux.timeOffsets.monotonic.nanosecs: expected an integer between 0 and 999999999"},
    InvalidCase{"/linux/netDevices/eth1/name", R"("a/b")",
                R"(linux.netDevices.eth1.name: not a valid network interface name: "a/b")"},
    InvalidCase{"/linux/netDevices/averyveryverylongname", "{}",
                "linux.netDevices.averyveryverylongname: not a valid network interface name"},
    InvalidCase{"/linux/netDevices/eth1", R"("net1")", "linux.netDevices.eth1: expected an object"}));

INSTANTIATE_TEST_SUITE_P(Resources, InvalidConfig, testing::Values(
    InvalidCase{"/linux/resources/devices/0/access", R"("rwx")",
                R"(linux.resources.devices[0].access: expected a combination of "r", "w" and "m", got "rwx")"},
    InvalidCase{"/linux/resources/devices/0/access", R"("rr")",
                R"(linux.resources.devices[0].access: expected a combination of "r", "w" and "m", got "rr")"},
    InvalidCase{"/linux/resources/devices/0/access", R"("")",
                R"(linux.resources.devices[0].access: expected a combination of "r", "w" and "m", got "")"},
    InvalidCase{"/linux/resources/devices/1/type", R"("u")",
                R"(linux.resources.devices[1].type: expected one of "a", "b" or "c", got "u")"},
    InvalidCase{"/linux/resources/devices/0/allow", remove_it, "linux.resources.devices[0].allow: missing (required)"},
    InvalidCase{"/linux/resources/devices/1/major", "-2",
                "linux.resources.devices[1].major: expected an integer between -1 and 4294967295"},
    InvalidCase{"/linux/resources/memory/limit", R"("1G")",
                "linux.resources.memory.limit: expected an integer between -9223372036854775808 and 9223372036854775807"},
    InvalidCase{"/linux/resources/memory/swappiness", "101",
                "linux.resources.memory.swappiness: expected an integer between 0 and 100"},
    InvalidCase{"/linux/resources/cpu/shares", "-2",
                "linux.resources.cpu.shares: expected an integer between 0 and 18446744073709551615"},
    InvalidCase{"/linux/resources/cpu/cpus", "0", "linux.resources.cpu.cpus: expected a string"},
    InvalidCase{"/linux/resources/blockIO/weight", "70000",
                "linux.resources.blockIO.weight: expected an integer between 0 and 65535"},
    InvalidCase{"/linux/resources/blockIO/throttleReadBpsDevice/0/rate", remove_it,
                "linux.resources.blockIO.throttleReadBpsDevice[0].rate: missing (required)"},
    InvalidCase{"/linux/resources/unified/memory.max", "5", "linux.resources.unified.memory.max: expected a string"},
    InvalidCase{"/linux/resources/hugepageLimits/0/pageSize", remove_it,
                "linux.resources.hugepageLimits[0].pageSize: missing (required)"},
    InvalidCase{"/linux/resources/pids", "10", "linux.resources.pids: expected an object"},
    InvalidCase{"/linux/resources/rdma/mlx5_1/hcaHandles", "-1",
                "linux.resources.rdma.mlx5_1.hcaHandles: expected an integer between 0 and 4294967295"},
    InvalidCase{"/linux/resources/rdma", "[]", "linux.resources.rdma: expected an object"}));

INSTANTIATE_TEST_SUITE_P(Seccomp, InvalidConfig, testing::Values(
    InvalidCase{"/linux/seccomp/defaultAction", remove_it, "linux.seccomp.defaultAction: missing (required)"},
    InvalidCase{"/linux/seccomp/defaultAction", R"("SCMP_ACT_FOO")",
                R"(linux.seccomp.defaultAction: unknown seccomp action "SCMP_ACT_FOO")"},
    InvalidCase{"/linux/seccomp/defaultErrnoRet", "-1",
                "linux.seccomp.defaultErrnoRet: expected an integer between 0 and 4294967295"},
    InvalidCase{"/linux/seccomp/architectures/0", R"("x86_64")",
                R"(linux.seccomp.architectures[0]: unknown architecture "x86_64")"},
    InvalidCase{"/linux/seccomp/flags/0", R"("SECCOMP_FILTER_FLAG_NEW_LISTENER")",
                R"(linux.seccomp.flags[0]: unknown seccomp flag "SECCOMP_FILTER_FLAG_NEW_LISTENER")"},
    InvalidCase{"/linux/seccomp/syscalls/0/names", "[]",
                "linux.seccomp.syscalls[0].names: expected a non-empty array of syscall names"},
    InvalidCase{"/linux/seccomp/syscalls/0/names", remove_it,
                "linux.seccomp.syscalls[0].names: expected a non-empty array of syscall names"},
    InvalidCase{"/linux/seccomp/syscalls/0/names/0", R"("")",
                "linux.seccomp.syscalls[0].names[0]: expected a non-empty string"},
    InvalidCase{"/linux/seccomp/syscalls/0/action", remove_it, "linux.seccomp.syscalls[0].action: missing (required)"},
    InvalidCase{"/linux/seccomp/syscalls/0/args/0/index", "6",
                "linux.seccomp.syscalls[0].args[0].index: expected an integer between 0 and 5"},
    InvalidCase{"/linux/seccomp/syscalls/0/args/0/op", R"("SCMP_CMP_FOO")",
                R"(linux.seccomp.syscalls[0].args[0].op: unknown seccomp operator "SCMP_CMP_FOO")"},
    InvalidCase{"/linux/seccomp/syscalls/0/args/0/value", remove_it,
                "linux.seccomp.syscalls[0].args[0].value: missing (required)"},
    InvalidCase{"/linux/seccomp/syscalls/0/errnoRet", R"("EPERM")",
                "linux.seccomp.syscalls[0].errnoRet: expected an integer between 0 and 4294967295"}));

// Rules across fields: each would otherwise let the config change the host.
INSTANTIATE_TEST_SUITE_P(Consistency, InvalidConfig, testing::Values(
    InvalidCase{"/linux/namespaces", R"([{"type": "pid"}, {"type": "network"}, {"type": "mount"}, {"type": "user"}])",
                "hostname: needs a uts namespace in linux.namespaces"},
    InvalidCase{"/linux/namespaces", R"([{"type": "pid"}, {"type": "network"}, {"type": "mount"}, {"type": "uts"}])",
                "linux.uidMappings: needs a user namespace in linux.namespaces"},
    InvalidCase{"/linux/uidMappings", "[]", "linux.uidMappings: a new user namespace needs at least one uid mapping"},
    InvalidCase{"/linux/gidMappings", "[]", "linux.gidMappings: a new user namespace needs at least one gid mapping"},
    InvalidCase{"/linux/namespaces", R"([{"type": "pid"}, {"type": "network"}, {"type": "uts"}, {"type": "user"}])",
                "linux.timeOffsets: needs a time namespace in linux.namespaces"},
    InvalidCase{"/linux/sysctl", R"({"kernel.core_pattern": "|/tmp/x"})",
                "linux.sysctl.kernel.core_pattern: not namespaced by the kernel, a container may not set it"},
    InvalidCase{"/linux/namespaces", R"([{"type": "pid"}, {"type": "mount"}, {"type": "uts"}, {"type": "user"}])",
                "linux.sysctl.net.ipv4.ip_forward: needs the container's own network namespace, else it would change the host"},
    InvalidCase{"/linux/sysctl", R"({"kernel.shmmax": "1"})",
                "linux.sysctl.kernel.shmmax: needs the container's own ipc namespace, else it would change the host"}));
// clang-format on

TEST(InvalidConfigBase, HostnameSysctlNeedsUtsNamespace) {
    auto doc = nlohmann::json::parse(base_config);
    doc.erase("hostname");
    doc["linux"]["namespaces"] = nlohmann::json::parse(R"([{"type": "pid"}, {"type": "network"}, {"type": "user"}])");
    doc["linux"]["sysctl"] = {{"kernel.hostname", "x"}};
    try {
        parse_config(doc.dump());
        FAIL() << "accepted kernel.hostname without a uts namespace";
    } catch (const ParseError& e) {
        EXPECT_STREQ(e.what(),
                     "linux.sysctl.kernel.hostname: needs the container's own uts namespace, else it would change the host");
    }
}

TEST(InvalidConfigBase, NetDevicesNeedNetworkNamespace) {
    auto doc = nlohmann::json::parse(base_config);
    doc["linux"].erase("sysctl");
    doc["linux"]["namespaces"].erase(1);  // network
    try {
        parse_config(doc.dump());
        FAIL() << "accepted netDevices without a network namespace";
    } catch (const ParseError& e) {
        EXPECT_STREQ(e.what(), "linux.netDevices: needs a network namespace in linux.namespaces");
    }
}

TEST(InvalidJson, SyntaxErrorNamesTheByteOffset) {
    try {
        parse_config(R"({"ociVersion": "1.0.0",, })");
        FAIL() << "accepted invalid JSON";
    } catch (const ParseError& e) {
        std::string message = e.what();
        EXPECT_EQ(message.rfind("config.json: invalid JSON at byte 24: ", 0), 0u) << message;
        EXPECT_EQ(message.find("[json.exception"), std::string::npos) << "library noise leaked: " << message;
    }
}

TEST(InvalidJson, EmptyAndTruncatedDocumentsAreParseErrors) {
    for (const char* text : {"", "{", "{\"ociVersion\": \"1.0", "nul", "\xff\xfe"}) {
        try {
            parse_config(text);
            ADD_FAILURE() << "accepted: " << text;
        } catch (const ParseError& e) {
            EXPECT_EQ(std::string(e.what()).rfind("config.json: invalid JSON at byte ", 0), 0u) << e.what();
        }
    }
}

TEST(InvalidJson, NonObjectDocumentIsRejected) {
    for (const char* text : {"[]", "null", "\"config\"", "42"}) {
        try {
            parse_config(text);
            ADD_FAILURE() << "accepted: " << text;
        } catch (const ParseError& e) {
            EXPECT_STREQ(e.what(), "config.json: expected an object");
        }
    }
}

TEST(InvalidJson, HostileValuesAreShortenedInMessages) {
    std::string doc = R"({"ociVersion": ")" + std::string(100000, 'x') + R"(", "root": {"path": "r"}})";
    try {
        parse_config(doc);
        FAIL();
    } catch (const ParseError& e) {
        EXPECT_LT(std::string(e.what()).size(), 200u);
    }
}

TEST(InvalidJson, DeeplyNestedDocumentDoesNotCrash) {
    std::string doc = R"({"ociVersion": "1.0.0", "root": {"path": "r"}, "annotations": {"x": )" +
                      std::string(100000, '[') + std::string(100000, ']') + "}}";
    EXPECT_THROW(parse_config(doc), ParseError);
}
