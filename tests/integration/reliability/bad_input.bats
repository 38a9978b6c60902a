#!/usr/bin/env bats
# Bad-input corpus: malformed and hostile bundles and command lines. Each case
# must get a clear error naming what is wrong, a non-zero exit that is not a
# crash or a timeout, and leave no state dir, mount, cgroup or process.
# Cases are grouped by kind; a group runs all its cases and then lists every
# one that failed.

load reliability_helpers

setup() {
    reliability_setup
}

teardown() {
    teardown_bundle
}

@test "bad input [config.json that is not a JSON object]" {
    refuse_text empty-file 'config.json' ''
    refuse_text only-brace 'config.json' '{'
    refuse_text array 'config.json' '[]'
    refuse_text null 'config.json' 'null'
    refuse_text string 'config.json' '"config"'
    refuse_text number 'config.json' '42'
    refuse_text trailing-garbage 'config.json' '{"ociVersion":"1.0.2"} trailing'
    refuse_text unterminated-string 'config.json' '{"ociVersion":"1.0.2'
    refuse_text single-quotes 'config.json' "{'ociVersion':'1.0.2'}"
    refuse_text comment 'config.json' '// comment
{}'
    refuse_text nul-byte 'config.json' "$(printf '{"ociVersion":"1.0.2"}')"$'\x01'
    refuse_text huge-exponent 'config.json' '{"ociVersion":"1.0.2","process":{"user":{"uid":1e999}}}'
    refuse_text deep-nesting 'config.json' "$(printf '[%.0s' {1..20000})"
    refuse_text empty-object 'root.path|process|required' '{}'
    no_problems
}

@test "bad input [wrong JSON types]" {
    refuse_config ociVersion-number 'ociVersion' '.ociVersion = 1'
    refuse_config process-string 'process' '.process = "sh"'
    refuse_config args-string 'process.args' '.process.args = "sh"'
    refuse_config args-numbers 'process.args' '.process.args = [1, 2]'
    refuse_config args-empty 'process.args' '.process.args = []'
    refuse_config env-object 'process.env' '.process.env = {"A": "1"}'
    refuse_config env-number 'process.env' '.process.env = [5]'
    refuse_config cwd-number 'process.cwd' '.process.cwd = 7'
    refuse_config uid-string 'process.user.uid' '.process.user.uid = "0"'
    refuse_config terminal-string 'process.terminal' '.process.terminal = "yes"'
    refuse_config root-string 'root' '.root = "rootfs"'
    refuse_config root-path-number 'root.path' '.root.path = 3'
    refuse_config mounts-object 'mounts' '.mounts = {"destination": "/x"}'
    refuse_config mount-destination-number 'mounts\[0\].destination' '.mounts[0].destination = 5'
    refuse_config mount-options-string 'mounts\[0\].options' '.mounts[0].options = "ro"'
    refuse_config namespaces-object 'linux.namespaces' '.linux.namespaces = {"type": "pid"}'
    refuse_config hostname-number 'hostname' '.hostname = 12'
    refuse_config annotations-array 'annotations' '.annotations = ["a"]'
    refuse_config annotation-value-number 'annotations' '.annotations = {"a": 1}'
    refuse_config hooks-prestart-object 'hooks.prestart' '.hooks = {"prestart": {"path": "/bin/true"}}'
    refuse_config linux-string 'linux' '.linux = "yes"'
    refuse_config capabilities-string 'process.capabilities' '.process.capabilities = "ALL"'
    no_problems
}

@test "bad input [huge, negative and absurd numbers]" {
    refuse_config uid-negative 'process.user.uid' '.process.user.uid = -1'
    refuse_config uid-too-big 'process.user.uid' '.process.user.uid = 4294967296'
    refuse_config gid-negative 'process.user.gid' '.process.user.gid = -5'
    refuse_config uid-fraction 'process.user.uid' '.process.user.uid = 1.5'
    refuse_config additional-gid-negative 'additionalGids' '.process.user.additionalGids = [-1]'
    refuse_config umask-huge 'umask' '.process.user.umask = 4294967296'
    refuse_config oom-score-too-high 'oomScoreAdj' '.process.oomScoreAdj = 5000'
    refuse_config oom-score-too-low 'oomScoreAdj' '.process.oomScoreAdj = -5000'
    refuse_config rlimit-unknown 'rlimits|RLIMIT_FOO' '.process.rlimits = [{"type": "RLIMIT_FOO", "hard": 1, "soft": 1}]'
    refuse_config rlimit-soft-above-hard 'rlimit|soft|hard' '.process.rlimits = [{"type": "RLIMIT_NOFILE", "hard": 10, "soft": 100}]'
    refuse_config rlimit-negative 'rlimits' '.process.rlimits = [{"type": "RLIMIT_NOFILE", "hard": -1, "soft": -1}]'
    refuse_config rlimit-overflow 'rlimits' '.process.rlimits = [{"type": "RLIMIT_NOFILE", "hard": 1e30, "soft": 1}]'
    refuse_config rlimit-nofile-above-kernel 'RLIMIT_NOFILE|rlimit|setrlimit' '.process.rlimits = [{"type": "RLIMIT_NOFILE", "hard": 18446744073709551615, "soft": 18446744073709551615}]'
    refuse_config rlimit-type-number 'rlimits' '.process.rlimits = [{"type": 7, "hard": 1, "soft": 1}]'
    refuse_config mapping-size-zero 'uidMappings|size' '.linux.namespaces += [{"type": "user"}] | .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 0}] | .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 1}]'
    refuse_config mapping-overflow 'uidMappings|size|map' '.linux.namespaces += [{"type": "user"}] | .linux.uidMappings = [{"containerID": 0, "hostID": 4294967295, "size": 4294967295}] | .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 1}]'
    refuse_config memory-limit-negative 'memory' '.linux.resources.memory = {"limit": -5}'
    refuse_config pids-limit-string 'pids' '.linux.resources.pids = {"limit": "x"}'
    refuse_config cpu-shares-negative 'cpu' '.linux.resources.cpu = {"shares": -1}'
    refuse_config cpus-garbage 'cpu' '.linux.resources.cpu = {"cpus": "0-zz"}'
    refuse_config hook-timeout-negative 'timeout' '.hooks = {"prestart": [{"path": "/bin/true", "timeout": -1}]}'
    refuse_config hook-timeout-zero 'timeout' '.hooks = {"prestart": [{"path": "/bin/true", "timeout": 0}]}'
    no_problems
}

@test "bad input [namespaces: unknown, duplicate, bad paths, host-changing settings]" {
    refuse_config ns-unknown-type 'namespace|bogus' '.linux.namespaces += [{"type": "bogus"}]'
    refuse_config ns-empty-type 'namespace' '.linux.namespaces += [{"type": ""}]'
    refuse_config ns-duplicate 'namespace|duplicate|pid' '.linux.namespaces += [{"type": "pid"}]'
    refuse_config ns-path-relative 'namespace|path|absolute' '(.linux.namespaces[] | select(.type == "network")) += {"path": "proc/1/ns/net"}'
    refuse_config ns-path-missing 'namespace|/nonexistent|No such file' '(.linux.namespaces[] | select(.type == "network")) += {"path": "/nonexistent/ns/net"}'
    refuse_config ns-path-regular-file 'namespace|setns|/etc/passwd|invalid' '(.linux.namespaces[] | select(.type == "network")) += {"path": "/etc/passwd"}'
    refuse_config ns-path-wrong-kind 'namespace|setns|invalid|uts' '(.linux.namespaces[] | select(.type == "network")) += {"path": "/proc/1/ns/uts"}'
    refuse_config no-mount-namespace 'mount namespace' '.linux.namespaces |= map(select(.type != "mount"))'
    refuse_config user-ns-without-mappings 'uidMappings' '.linux.namespaces += [{"type": "user"}]'
    refuse_config mappings-without-user-ns 'uidMappings|user namespace' '.linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]'
    refuse_config hostname-without-uts 'hostname|uts' '.linux.namespaces |= map(select(.type != "uts")) | .hostname = "evil"'
    refuse_config sysctl-net-on-host-net 'sysctl|net' '.linux.namespaces |= map(select(.type != "network")) | .linux.sysctl = {"net.ipv4.ip_forward": "1"}'
    refuse_config sysctl-kernel-global 'sysctl|kernel' '.linux.sysctl = {"kernel.panic": "1"}'
    refuse_config sysctl-path-escape 'sysctl' '.linux.sysctl = {"net/../../kernel/panic": "1"}'
    refuse_config time-offsets-without-time-ns 'timeOffsets|time' '.linux.timeOffsets = {"monotonic": {"secs": 10, "nanosecs": 0}}'
    no_problems
}

@test "bad input [rootfs and paths: .., symlinks, missing, not a directory]" {
    refuse_config rootfs-missing 'root.path|rootfs' '.root.path = "no-such-rootfs"'
    refuse_config rootfs-empty 'root.path' '.root.path = ""'
    refuse_config rootfs-is-file 'root.path|not a directory' '.root.path = "config.json"'
    ln -s / "$BUNDLE/rootfs-link-to-host"
    refuse_config rootfs-symlink-to-host 'root.path|symlink' '.root.path = "rootfs-link-to-host"'
    ln -s rootfs "$BUNDLE/rootfs-link"
    refuse_config rootfs-symlink-relative 'root.path|symlink' '.root.path = "rootfs-link"'
    refuse_config mount-destination-relative 'mounts|destination|absolute' '.mounts += [{"destination": "relative/dir", "type": "tmpfs", "source": "tmpfs"}]'
    refuse_config mount-type-unknown 'mount|nosuchfs|No such device' '.mounts += [{"destination": "/mnt", "type": "nosuchfs", "source": "none"}]'
    refuse_config mount-bind-source-missing 'mount|/nonexistent' '.mounts += [{"destination": "/mnt", "type": "bind", "source": "/nonexistent/src", "options": ["rbind"]}]'
    refuse_config mount-option-unknown 'mount|option|bogus' '.mounts += [{"destination": "/mnt", "type": "tmpfs", "source": "tmpfs", "options": ["bogusopt"]}]'
    refuse_config cwd-relative 'process.cwd|absolute' '.process.cwd = "tmp"'
    refuse_config cwd-empty 'process.cwd' '.process.cwd = ""'
    refuse_config cwd-is-a-file 'cwd|not a directory|chdir' '.process.cwd = "/bin/busybox"'
    ln -s /etc/passwd "$BUNDLE/rootfs/proc-link"
    rmdir "$BUNDLE/rootfs/proc" 2>/dev/null || rm -rf "$BUNDLE/rootfs/proc"
    ln -s /tmp "$BUNDLE/rootfs/proc"
    refuse_config proc-over-symlink 'proc|symlink' ''
    rm "$BUNDLE/rootfs/proc" && mkdir "$BUNDLE/rootfs/proc"
    rm -rf "$BUNDLE/rootfs/sys" && ln -s /tmp "$BUNDLE/rootfs/sys"
    refuse_config sys-over-symlink 'sys|symlink' ''
    rm "$BUNDLE/rootfs/sys" && mkdir "$BUNDLE/rootfs/sys"
    no_problems
}

@test "bad input [devices: bad types, majors, paths]" {
    refuse_config device-type-unknown 'devices|type' '.linux.devices = [{"path": "/dev/x", "type": "x", "major": 1, "minor": 3}]'
    refuse_config device-major-negative 'devices|major' '.linux.devices = [{"path": "/dev/x", "type": "c", "major": -1, "minor": 3}]'
    refuse_config device-major-huge 'devices|major' '.linux.devices = [{"path": "/dev/x", "type": "c", "major": 1099511627776, "minor": 3}]'
    refuse_config device-minor-string 'devices|minor' '.linux.devices = [{"path": "/dev/x", "type": "c", "major": 1, "minor": "3"}]'
    refuse_config device-path-relative 'devices|path|absolute' '.linux.devices = [{"path": "dev/x", "type": "c", "major": 1, "minor": 3}]'
    refuse_config device-path-missing 'devices|path' '.linux.devices = [{"type": "c", "major": 1, "minor": 3}]'
    refuse_config device-char-without-major 'devices|major' '.linux.devices = [{"path": "/dev/x", "type": "c"}]'
    refuse_config device-filemode-string 'devices|fileMode' '.linux.devices = [{"path": "/dev/x", "type": "c", "major": 1, "minor": 3, "fileMode": "rw"}]'
    refuse_config device-rule-access-bad 'devices|access' '.linux.resources.devices = [{"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwxz"}]'
    refuse_config device-rule-allow-string 'devices|allow' '.linux.resources.devices = [{"allow": "yes", "access": "rwm"}]'
    no_problems
}

@test "bad input [container ids: /, .., reserved names, control characters, too long]" {
    local long
    long=$(printf 'a%.0s' {1..2000})
    refuse_args id-slash 'id' create --bundle "$BUNDLE" 'a/b'
    refuse_args id-only-slash 'id' create --bundle "$BUNDLE" '/'
    refuse_args id-dotdot 'id' create --bundle "$BUNDLE" '..'
    refuse_args id-dot 'id' create --bundle "$BUNDLE" '.'
    refuse_args id-reserved 'id|reserved' create --bundle "$BUNDLE" '.tether-seccomp-cache'
    refuse_args id-dotdot-path 'id' create --bundle "$BUNDLE" '../../etc'
    refuse_args id-empty 'id' create --bundle "$BUNDLE" ''
    refuse_args id-newline 'id' create --bundle "$BUNDLE" $'abc\ndef'
    refuse_args id-tab 'id' create --bundle "$BUNDLE" $'abc\tdef'
    refuse_args id-space 'id' create --bundle "$BUNDLE" 'abc def'
    refuse_args id-escape 'id' create --bundle "$BUNDLE" $'abc\x1b[31m'
    refuse_args id-del 'id' create --bundle "$BUNDLE" $'abc\x7f'
    refuse_args id-2000-bytes 'id|long' create --bundle "$BUNDLE" "$long"
    refuse_args id-256-bytes 'id|long' create --bundle "$BUNDLE" "${long:0:256}"
    # An argv cannot carry a NUL: the kernel cuts the string there. The id is
    # then "abc", which is valid; what must not happen is a crash.
    refuse_args state-id-slash 'id|does not exist' state 'a/../b'
    refuse_args delete-id-dotdot 'id' delete '..'
    refuse_args kill-id-slash 'id|does not exist' kill 'x/y' KILL
    no_problems
}

@test "bad input [command lines: bundle, pid file, flags]" {
    local id
    refuse_args bundle-missing 'bundle|No such file' create --bundle "$TEST_DIR/no-such-bundle" "$(new_id)"
    refuse_args bundle-is-file 'bundle|not a directory' create --bundle "$BUNDLE/config.json" "$(new_id)"
    mkdir -p "$TEST_DIR/no-config"
    refuse_args bundle-without-config 'config.json' create --bundle "$TEST_DIR/no-config" "$(new_id)"
    mkdir -p "$TEST_DIR/config-dir/config.json"
    refuse_args config-is-directory 'config.json' create --bundle "$TEST_DIR/config-dir" "$(new_id)"
    mkdir -p "$TEST_DIR/config-devzero" && ln -s /dev/zero "$TEST_DIR/config-devzero/config.json"
    refuse_args config-is-dev-zero 'config.json' create --bundle "$TEST_DIR/config-devzero" "$(new_id)"
    mkdir -p "$TEST_DIR/config-dangling" && ln -s /nonexistent "$TEST_DIR/config-dangling/config.json"
    refuse_args config-dangling-symlink 'config.json' create --bundle "$TEST_DIR/config-dangling" "$(new_id)"
    refuse_args pid-file-dir-missing 'pid|/nonexistent' create --bundle "$BUNDLE" --pid-file /nonexistent/dir/pid "$(new_id)"
    mkdir -p "$TEST_DIR/pid-is-dir"
    refuse_args pid-file-is-directory 'pid|directory|rename' create --bundle "$BUNDLE" --pid-file "$TEST_DIR/pid-is-dir" "$(new_id)"
    refuse_args console-socket-missing 'console|terminal' create --bundle "$BUNDLE" --console-socket /nonexistent.sock "$(new_id)"
    refuse_args preserve-fds-negative 'preserve-fds' create --bundle "$BUNDLE" --preserve-fds -1 "$(new_id)"
    refuse_args preserve-fds-garbage 'preserve-fds' create --bundle "$BUNDLE" --preserve-fds abc "$(new_id)"
    refuse_args preserve-fds-huge 'preserve-fds|fd' create --bundle "$BUNDLE" --preserve-fds 2147483647 "$(new_id)"
    refuse_args unknown-flag 'bogus|unknown|not expected|extra' create --bogus-flag --bundle "$BUNDLE" "$(new_id)"
    refuse_args missing-id 'id|required' create --bundle "$BUNDLE"
    refuse_args extra-args 'extra|unexpected|arguments' create --bundle "$BUNDLE" "$(new_id)" extra-arg
    refuse_args log-format-bogus 'log-format|bogus|not in' --log-format bogus create --bundle "$BUNDLE" "$(new_id)"
    echo file >"$TEST_DIR/root-is-file"
    id=$(new_id)
    printf '%s\n' "$id" >>"$TEST_DIR/ids"
    status=0
    timeout -k 5 30 "$RUNTIME" --root "$TEST_DIR/root-is-file" create --bundle "$BUNDLE" "$id" </dev/null >"$TEST_DIR/invoke.out" 2>&1 3>&- || status=$?
    output=$(cat "$TEST_DIR/invoke.out")
    check_refused root-is-a-file 'root|Not a directory|File exists' "$id"
    refuse_args kill-bad-signal 'signal' kill "$(new_id)" SIGBOGUS
    refuse_args kill-signal-too-big 'signal' kill "$(new_id)" 99999
    no_problems
}

@test "bad input [sandbox annotations with bad values]" {
    refuse_config annotation-unknown-key 'run.tether.bogus' '.annotations["run.tether.bogus"] = "1"'
    refuse_config port-too-big 'allowLocalOutboundPorts' '.annotations["run.tether.network.allowLocalOutboundPorts"] = "70000"'
    refuse_config port-negative 'allowLocalOutboundPorts' '.annotations["run.tether.network.allowLocalOutboundPorts"] = "-1"'
    refuse_config port-zero 'allowLocalOutboundPorts' '.annotations["run.tether.network.allowLocalOutboundPorts"] = "0"'
    refuse_config port-garbage 'allowLocalOutboundPorts' '.annotations["run.tether.network.allowLocalOutboundPorts"] = "abc"'
    refuse_config port-range-reversed 'allowLocalOutboundPorts' '.annotations["run.tether.network.allowLocalOutboundPorts"] = "9000-8000"'
    refuse_config bind-port-garbage 'allowBindPorts' '.annotations["run.tether.network.allowBindPorts"] = "80x"'
    refuse_config mode-unknown 'sandbox.mode' '.annotations["run.tether.sandbox.mode"] = "strict"'
    refuse_config best-effort-not-bool 'bestEffort' '.annotations["run.tether.sandbox.bestEffort"] = "maybe"'
    refuse_config dns-not-bool 'allowDNS' '.annotations["run.tether.network.allowDNS"] = "2"'
    refuse_config cidr-host-bits 'allowPrivateUpstreams' '.annotations["run.tether.network.allowPrivateUpstreams"] = "10.0.0.1/8"'
    refuse_config cidr-garbage 'allowPrivateUpstreams' '.annotations["run.tether.network.allowPrivateUpstreams"] = "999.0.0.0/8"'
    refuse_config cidr-prefix-too-long 'allowPrivateUpstreams' '.annotations["run.tether.network.allowPrivateUpstreams"] = "10.0.0.0/33"'
    refuse_config fs-path-relative 'allowWrite' '.annotations["run.tether.filesystem.allowWrite"] = "relative/dir"'
    refuse_config fs-path-dotdot 'denyRead' '.annotations["run.tether.filesystem.denyRead"] = "/a/../etc"'
    refuse_config policy-file-missing 'run.tether.policy|/nonexistent' '.annotations["run.tether.policy"] = "/nonexistent/policy.json"'
    echo '{"network": ' >"$TEST_DIR/policy-bad.json"
    refuse_config policy-file-not-json 'run.tether.policy|policy' ".annotations[\"run.tether.policy\"] = \"$TEST_DIR/policy-bad.json\""
    echo '{"sandbox": {"mode": "strict"}}' >"$TEST_DIR/policy-mode.json"
    refuse_config policy-file-bad-mode 'sandbox.mode' ".annotations[\"run.tether.policy\"] = \"$TEST_DIR/policy-mode.json\""
    refuse_config log-path-relative 'run.tether.log' '.annotations["run.tether.log"] = "relative.jsonl"'
    no_problems
}

@test "bad input [hooks and seccomp that cannot work]" {
    refuse_config hook-path-relative 'hooks|path|absolute' '.hooks = {"prestart": [{"path": "true"}]}'
    refuse_config hook-path-missing 'hook|/nonexistent' '.hooks = {"prestart": [{"path": "/nonexistent/hook"}]}'
    refuse_config hook-fails 'hook|prestart|exit' '.hooks = {"prestart": [{"path": "/bin/false"}]}'
    refuse_config hook-create-runtime-fails 'hook|createRuntime|exit' '.hooks = {"createRuntime": [{"path": "/bin/sh", "args": ["sh", "-c", "exit 3"]}]}'
    refuse_config hook-times-out 'hook|timeout|timed out' '.hooks = {"prestart": [{"path": "/bin/sleep", "args": ["sleep", "60"], "timeout": 1}]}'
    refuse_config hook-create-container-fails 'hook|createContainer|exit' '.hooks = {"createContainer": [{"path": "/bin/false"}]}'
    refuse_config seccomp-default-action-bogus 'seccomp|defaultAction' '.linux.seccomp = {"defaultAction": "SCMP_ACT_BOGUS"}'
    refuse_config seccomp-arch-bogus 'seccomp|arch' '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_BOGUS"]}'
    refuse_config seccomp-arg-index 'seccomp|index' '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 9, "value": 1, "op": "SCMP_CMP_EQ"}]}]}'
    refuse_config seccomp-op-bogus 'seccomp|op' '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_BOGUS"}]}]}'
    refuse_config seccomp-notify-without-listener 'seccomp|listener|notify' '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]}'
    refuse_config cgroups-path-escape 'cgroupsPath|cgroup' '.linux.cgroupsPath = "/../../../../escape"'
    refuse_config cgroups-path-relative-dotdot 'cgroupsPath|cgroup' '.linux.cgroupsPath = "a/../../../b"'
    no_problems
}

@test "bad input [a config.json of 100 MB is refused quickly, nothing left]" {
    # 100 MB of annotation: a caller must not make the runtime allocate
    # without bound.
    local id
    jq -c '.' "$TEST_DIR/pristine.json" | head -c -2 >"$BUNDLE/config.json"
    {
        printf ',"annotations":{"big":"'
        head -c 104857600 /dev/zero | tr '\0' 'a'
        printf '"}}'
    } >>"$BUNDLE/config.json"
    id=$(new_id)
    invoke create --bundle "$BUNDLE" "$id"
    check_refused config-100MB 'config.json|too large|larger|bytes' "$id"
    rm -f "$BUNDLE/config.json"
    no_problems
}
