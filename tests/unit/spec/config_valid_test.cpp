// Real-world configs parse into the values the runtime will apply.
#include <gtest/gtest.h>

#include "spec/config.hpp"
#include "spec/default_config.hpp"
#include "spec/parse_error.hpp"

using namespace tether::spec;

namespace {

// Shaped like what podman 4 writes (crun/runc agnostic): 1.0.2-dev, a
// seccomp profile with defaultErrnoRet 38 (ENOSYS) and argument rules,
// ten mounts, masked paths, rlimits, hooks, annotations.
const char* const podman_config = R"JSON({
  "ociVersion": "1.0.2-dev",
  "process": {
    "user": {"uid": 1000, "gid": 1000, "umask": 18, "additionalGids": [1000, 10]},
    "args": ["/bin/sh", "-c", "echo hi"],
    "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm",
            "container=podman", "HOME=/root", "EMPTY="],
    "cwd": "/work",
    "capabilities": {
      "bounding": ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_NET_BIND_SERVICE",
                   "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID", "CAP_SYS_CHROOT"],
      "effective": ["CAP_CHOWN", "CAP_KILL"],
      "permitted": ["CAP_CHOWN", "CAP_KILL"]
    },
    "rlimits": [
      {"type": "RLIMIT_NOFILE", "hard": 1048576, "soft": 1048576},
      {"type": "RLIMIT_NPROC", "hard": 4194304, "soft": 4194304},
      {"type": "RLIMIT_CORE", "hard": 18446744073709551615, "soft": 0}
    ],
    "terminal": false,
    "oomScoreAdj": 0,
    "unknownFutureField": {"ignored": true}
  },
  "root": {"path": "/var/lib/containers/storage/overlay/abc/merged"},
  "hostname": "5f0e7c6a1b2c",
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"]},
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
    {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
    {"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
    {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nodev", "noexec", "nosuid"]},
    {"destination": "/etc/hostname", "type": "bind", "source": "/run/containers/storage/overlay-containers/abc/userdata/hostname", "options": ["bind", "rprivate"]},
    {"destination": "/etc/resolv.conf", "type": "bind", "source": "/run/containers/storage/overlay-containers/abc/userdata/resolv.conf", "options": ["bind", "rprivate"]},
    {"destination": "/etc/hosts", "type": "bind", "source": "/run/containers/storage/overlay-containers/abc/userdata/hosts", "options": ["bind", "rprivate"]},
    {"destination": "/dev/shm", "type": "bind", "source": "/var/lib/containers/storage/overlay-containers/abc/userdata/shm", "options": ["bind", "rprivate", "nosuid", "noexec", "nodev"]},
    {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["rprivate", "nosuid", "noexec", "nodev", "relatime", "ro"]}
  ],
  "hooks": {
    "prestart": [{"path": "/usr/libexec/tether/tether-netd", "args": ["tether-netd", "prestart"], "env": ["A=1"], "timeout": 10}]
  },
  "annotations": {
    "io.container.manager": "libpod",
    "org.opencontainers.image.stopSignal": "15",
    "run.tether.network.allowLocalOutboundPorts": "5432,8080"
  },
  "linux": {
    "sysctl": {"net.ipv4.ping_group_range": "0 0"},
    "resources": {
      "pids": {"limit": 2048},
      "memory": {"limit": 536870912, "swap": 1073741824},
      "cpu": {"quota": 50000, "period": 100000, "cpus": "0-1"}
    },
    "cgroupsPath": "machine.slice:libpod:abc",
    "namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"},
                   {"type": "cgroup"}],
    "seccomp": {
      "defaultAction": "SCMP_ACT_ERRNO",
      "defaultErrnoRet": 38,
      "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
      "syscalls": [
        {"names": ["bdflush", "io_pgetevents", "kexec_file_load"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
        {"names": ["accept", "accept4", "read", "write"], "action": "SCMP_ACT_ALLOW"},
        {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
         "args": [{"index": 0, "value": 0, "valueTwo": 0, "op": "SCMP_CMP_EQ"}]},
        {"names": ["clone"], "action": "SCMP_ACT_ALLOW",
         "args": [{"index": 0, "value": 2114060288, "op": "SCMP_CMP_MASKED_EQ"}]}
      ]
    },
    "maskedPaths": ["/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
                    "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/fs/selinux",
                    "/sys/dev/block"],
    "readonlyPaths": ["/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
  }
})JSON";

// Shaped like containerd's runc v2 shim bundles: a relative root "rootfs",
// device cgroup rules, noNewPrivileges, a cgroupsPath with a leading slash.
const char* const containerd_config = R"JSON({
  "ociVersion": "1.1.0",
  "process": {
    "user": {"uid": 0, "gid": 0, "additionalGids": [0, 10]},
    "args": ["nginx", "-g", "daemon off;"],
    "env": ["PATH=/usr/sbin:/usr/bin", "NGINX_VERSION=1.25.3"],
    "cwd": "/",
    "capabilities": {
      "bounding": ["CAP_CHOWN", "CAP_NET_RAW", "CAP_AUDIT_WRITE"],
      "effective": ["CAP_CHOWN", "CAP_NET_RAW", "CAP_AUDIT_WRITE"],
      "permitted": ["CAP_CHOWN", "CAP_NET_RAW", "CAP_AUDIT_WRITE"]
    },
    "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
    "noNewPrivileges": true,
    "apparmorProfile": "cri-containerd.apparmor.d",
    "oomScoreAdj": -998
  },
  "root": {"path": "rootfs", "readonly": false},
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"]},
    {"destination": "/run", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]}
  ],
  "linux": {
    "resources": {
      "devices": [
        {"allow": false, "access": "rwm"},
        {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"},
        {"allow": true, "type": "c", "major": 136, "access": "rw"},
        {"allow": true, "type": "c", "major": 5, "minor": -1, "access": "m"}
      ],
      "memory": {"limit": 134217728, "swappiness": 60},
      "cpu": {"shares": 2, "period": 100000},
      "blockIO": {"weight": 500, "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1048576}]},
      "hugepageLimits": [{"pageSize": "2MB", "limit": 0}],
      "unified": {"memory.high": "100000000"}
    },
    "cgroupsPath": "/k8s.io/4ab2",
    "namespaces": [{"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"},
                   {"type": "network", "path": "/var/run/netns/cni-1234"}],
    "devices": [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 438, "uid": 0, "gid": 0},
                {"path": "/dev/myfifo", "type": "p"}],
    "rootfsPropagation": "rslave",
    "maskedPaths": ["/proc/kcore"],
    "readonlyPaths": ["/proc/sys"]
  }
})JSON";

}  // namespace

TEST(ConfigParse, PodmanConfigKeepsEveryValueTheRuntimeApplies) {
    Config c = parse_config(podman_config);
    EXPECT_EQ(c.oci_version, "1.0.2-dev");
    ASSERT_TRUE(c.root);
    EXPECT_EQ(c.root->path, "/var/lib/containers/storage/overlay/abc/merged");
    EXPECT_FALSE(c.root->readonly);
    ASSERT_EQ(c.mounts.size(), 10u);
    EXPECT_EQ(c.mounts[5].destination, "/etc/hostname");
    EXPECT_EQ(c.mounts[5].type, "bind");
    EXPECT_EQ(c.mounts[9].options.back(), "ro");

    ASSERT_TRUE(c.process);
    const Process& p = *c.process;
    EXPECT_EQ(p.args, (std::vector<std::string>{"/bin/sh", "-c", "echo hi"}));
    EXPECT_EQ(p.cwd, "/work");
    EXPECT_EQ(p.user.uid, 1000u);
    EXPECT_EQ(p.user.umask, 18u);
    EXPECT_EQ(p.user.additional_gids, (std::vector<uint32_t>{1000, 10}));
    EXPECT_EQ(p.env.back(), "EMPTY=");
    ASSERT_TRUE(p.capabilities);
    EXPECT_EQ(p.capabilities->bounding.size(), 11u);
    EXPECT_TRUE(p.capabilities->ambient.empty());
    ASSERT_EQ(p.rlimits.size(), 3u);
    EXPECT_EQ(p.rlimits[2].type, "RLIMIT_CORE");
    EXPECT_EQ(p.rlimits[2].hard, UINT64_MAX);  // RLIM_INFINITY survives as an unsigned 64-bit value
    EXPECT_FALSE(p.no_new_privileges);
    EXPECT_EQ(p.oom_score_adj, 0);

    ASSERT_EQ(c.hooks.prestart.size(), 1u);
    EXPECT_EQ(c.hooks.prestart[0].timeout, 10);
    EXPECT_EQ(c.hooks.prestart[0].args[1], "prestart");
    EXPECT_EQ(c.annotations.at("run.tether.network.allowLocalOutboundPorts"), "5432,8080");

    ASSERT_TRUE(c.linux_);
    const Linux& l = *c.linux_;
    EXPECT_EQ(l.namespaces.size(), 6u);
    EXPECT_NE(l.find_namespace(NamespaceType::cgroup), nullptr);
    EXPECT_EQ(l.find_namespace(NamespaceType::user), nullptr);
    EXPECT_EQ(l.cgroups_path, "machine.slice:libpod:abc");
    EXPECT_EQ(l.sysctl.at("net.ipv4.ping_group_range"), "0 0");
    ASSERT_TRUE(l.resources && l.resources->pids && l.resources->memory && l.resources->cpu);
    EXPECT_EQ(l.resources->pids->limit, 2048);
    EXPECT_EQ(l.resources->memory->limit, 536870912);
    EXPECT_EQ(l.resources->cpu->cpus, "0-1");
    ASSERT_TRUE(l.seccomp);
    EXPECT_EQ(l.seccomp->default_action, "SCMP_ACT_ERRNO");
    EXPECT_EQ(l.seccomp->default_errno_ret, 38u);
    EXPECT_EQ(l.seccomp->architectures.size(), 3u);
    ASSERT_EQ(l.seccomp->syscalls.size(), 4u);
    EXPECT_EQ(l.seccomp->syscalls[0].errno_ret, 1u);
    EXPECT_FALSE(l.seccomp->syscalls[1].errno_ret);
    ASSERT_EQ(l.seccomp->syscalls[3].args.size(), 1u);
    EXPECT_EQ(l.seccomp->syscalls[3].args[0].op, "SCMP_CMP_MASKED_EQ");
    EXPECT_EQ(l.seccomp->syscalls[3].args[0].value, 2114060288u);
    EXPECT_EQ(l.masked_paths.size(), 11u);
    EXPECT_EQ(l.readonly_paths.front(), "/proc/asound");
}

TEST(ConfigParse, ContainerdConfigKeepsRelativeRootDeviceRulesAndNoNewPrivileges) {
    Config c = parse_config(containerd_config);
    EXPECT_EQ(c.root->path, "rootfs");
    ASSERT_TRUE(c.process);
    EXPECT_TRUE(c.process->no_new_privileges);
    EXPECT_EQ(c.process->oom_score_adj, -998);
    EXPECT_EQ(c.process->apparmor_profile, "cri-containerd.apparmor.d");

    const Linux& l = *c.linux_;
    const auto& rules = l.resources->devices;
    ASSERT_EQ(rules.size(), 4u);
    EXPECT_FALSE(rules[0].allow);
    EXPECT_EQ(rules[0].type, "a");  // omitted type means all devices
    EXPECT_FALSE(rules[0].major);
    EXPECT_EQ(rules[1].major, 1);
    EXPECT_EQ(rules[1].minor, 3);
    EXPECT_FALSE(rules[2].minor);  // omitted minor: wildcard
    EXPECT_FALSE(rules[3].minor);  // -1 minor: wildcard too
    EXPECT_EQ(rules[3].access, "m");
    EXPECT_EQ(l.resources->memory->swappiness, 60u);
    EXPECT_EQ(l.resources->cpu->shares, 2u);
    EXPECT_EQ(l.resources->block_io->weight, 500);
    EXPECT_EQ(l.resources->block_io->throttle_read_bps_device.at(0).rate, 1048576u);
    EXPECT_EQ(l.resources->hugepage_limits.at(0).page_size, "2MB");
    EXPECT_EQ(l.resources->unified.at("memory.high"), "100000000");
    EXPECT_EQ(l.find_namespace(NamespaceType::network)->path, "/var/run/netns/cni-1234");
    ASSERT_EQ(l.devices.size(), 2u);
    EXPECT_EQ(l.devices[0].type, 'c');
    EXPECT_EQ(l.devices[0].minor, 229);
    EXPECT_EQ(l.devices[0].file_mode, 438u);
    EXPECT_EQ(l.devices[1].type, 'p');
    EXPECT_EQ(l.rootfs_propagation, "rslave");
}

// podman --device and --privileged pass the host node's st_mode as fileMode,
// file type bits included; only the permission bits are kept.
TEST(ConfigParse, DeviceFileModeWithTheDevicesTypeBitsKeepsThePermissions) {
    Config c = parse_config(R"({"ociVersion": "1.0.2", "root": {"path": "rootfs"}, "linux": {"devices": [
        {"path": "/dev/mynull", "type": "c", "major": 1, "minor": 3, "fileMode": 8630},
        {"path": "/dev/loop9", "type": "b", "major": 7, "minor": 9, "fileMode": 25008},
        {"path": "/dev/fifo", "type": "p", "fileMode": 4516}]}})");
    ASSERT_EQ(c.linux_->devices.size(), 3u);
    EXPECT_EQ(c.linux_->devices[0].file_mode, 0666u);
    EXPECT_EQ(c.linux_->devices[1].file_mode, 0660u);
    EXPECT_EQ(c.linux_->devices[2].file_mode, 0644u);
}

TEST(ConfigParse, MinimalConfigWithoutProcessOrLinuxIsValid) {
    Config c = parse_config(R"({"ociVersion": "1.2.0", "root": {"path": "rootfs"}})");
    EXPECT_FALSE(c.process);
    EXPECT_FALSE(c.linux_);
    EXPECT_TRUE(c.mounts.empty());
    EXPECT_TRUE(c.hooks.empty());
}

TEST(ConfigParse, NullMeansAbsentAsInGoDecoders) {
    Config c = parse_config(
        R"({"ociVersion": "1.0.0", "root": {"path": "r"}, "mounts": null, "hostname": null,
            "process": {"args": ["sh"], "env": null, "capabilities": null}})");
    EXPECT_TRUE(c.mounts.empty());
    EXPECT_EQ(c.hostname, "");
    EXPECT_FALSE(c.process->capabilities);
    EXPECT_EQ(c.process->cwd, "/");
}

TEST(ConfigParse, DefaultConfigsOfTetherSpecParse) {
    for (bool rootless : {false, true}) {
        Config c = parse_config(default_config_json(rootless, 1000, 1000));
        EXPECT_EQ(c.process->args, std::vector<std::string>{"sh"});
        EXPECT_TRUE(c.process->terminal);
        EXPECT_EQ(c.linux_->find_namespace(NamespaceType::user) != nullptr, rootless);
        EXPECT_EQ(c.linux_->find_namespace(NamespaceType::network) != nullptr, !rootless);
    }
}

TEST(ConfigParse, RuntimeSpec12FieldsAreKept) {
    Config c = parse_config(R"({"ociVersion": "1.2.0", "root": {"path": "rootfs"},
        "process": {"args": ["sh"],
                    "scheduler": {"policy": "SCHED_DEADLINE", "runtime": 1000, "deadline": 2000, "period": 3000,
                                  "flags": ["SCHED_FLAG_RECLAIM"]},
                    "execCPUAffinity": {"initial": "0", "final": "1-3"}},
        "linux": {"namespaces": [{"type": "time"}, {"type": "network"}],
                  "timeOffsets": {"boottime": {"secs": -5, "nanosecs": 7}},
                  "netDevices": {"eth1": {}, "eth2": {"name": "inner0"}},
                  "resources": {"rdma": {"mlx5_1": {"hcaHandles": 3, "hcaObjects": 10000}}}}})");
    const Process& p = *c.process;
    ASSERT_TRUE(p.scheduler);
    EXPECT_EQ(p.scheduler->policy, "SCHED_DEADLINE");
    EXPECT_EQ(p.scheduler->deadline, 2000u);
    EXPECT_FALSE(p.scheduler->nice);
    EXPECT_EQ(p.scheduler->flags, std::vector<std::string>{"SCHED_FLAG_RECLAIM"});
    ASSERT_TRUE(p.exec_cpu_affinity);
    EXPECT_EQ(p.exec_cpu_affinity->final, "1-3");
    const Linux& l = *c.linux_;
    EXPECT_EQ(l.time_offsets.at("boottime").secs, -5);
    EXPECT_EQ(l.time_offsets.at("boottime").nanosecs, 7u);
    EXPECT_EQ(l.net_devices.at("eth1").name, "");
    EXPECT_EQ(l.net_devices.at("eth2").name, "inner0");
    EXPECT_EQ(l.resources->rdma.at("mlx5_1").hca_objects, 10000u);
}

TEST(ProcessParse, ExecProcessJsonParses) {
    Process p = parse_process(R"({"args": ["ls", "-l"], "cwd": "/tmp", "env": ["A=b"], "terminal": true,
                                  "consoleSize": {"height": 24, "width": 80},
                                  "ioPriority": {"class": "IOPRIO_CLASS_BE", "priority": 4}})");
    EXPECT_EQ(p.args.size(), 2u);
    ASSERT_TRUE(p.console_size);
    EXPECT_EQ(p.console_size->width, 80u);
    EXPECT_EQ(p.io_priority_class, "IOPRIO_CLASS_BE");
    EXPECT_EQ(p.io_priority, 4);
}

TEST(ProcessParse, ErrorsNameTheDocument) {
    try {
        parse_process(R"({"args": []})");
        FAIL() << "accepted empty args";
    } catch (const ParseError& e) {
        EXPECT_STREQ(e.what(), "process.json: args: expected a non-empty array of strings");
    }
}

TEST(ResourcesParse, UpdateDocumentParses) {
    Resources r = parse_resources(R"({"memory": {"limit": -1}, "pids": {"limit": 100}, "cpu": {"idle": 1}})");
    EXPECT_EQ(r.memory->limit, -1);  // -1: unlimited
    EXPECT_EQ(r.pids->limit, 100);
    EXPECT_EQ(r.cpu->idle, 1);
}

TEST(ResourcesParse, ErrorsNameTheDocument) {
    EXPECT_THROW(
        {
            try {
                parse_resources(R"({"memory": {"swappiness": 101}})");
            } catch (const ParseError& e) {
                EXPECT_STREQ(e.what(), "resources.json: memory.swappiness: expected an integer between 0 and 100");
                throw;
            }
        },
        ParseError);
}
