#!/usr/bin/env bats
# linux.seccomp from config.json as the container's process sees it: the
# errno a denied syscall returns, /proc/self/status, argument operators,
# architectures, flags, unknown names, the load order against
# noNewPrivileges, podman's and Docker's default profiles, and
# SCMP_ACT_NOTIFY with listenerPath (a small C agent answers).

load helpers

LISTENER_SOURCE=$INTEGRATION_ROOT/tools/seccomp_listener.c
LISTENER_BIN=${BATS_RUN_TMPDIR:-/tmp}/seccomp-listener
DOCKER_FIXTURE=$REPO_ROOT/tests/unit/security/fixtures/docker_default_x86_64_trimmed.json
PODMAN_TEMPLATE=/usr/share/containers/seccomp.json

setup() {
    require_runtime
    setup_bundle
    # mkdir and chmod need somewhere to write; the syscall under test is
    # refused by the filter before the file system is even asked.
    update_config '.root.readonly = false'
    LISTENER_PID=
}

teardown() {
    if [[ -n $LISTENER_PID ]]; then
        kill -9 "$LISTENER_PID" 2>/dev/null || true
        wait "$LISTENER_PID" 2>/dev/null || true
    fi
    teardown_bundle
}

# set_seccomp JSON: linux.seccomp = JSON.
set_seccomp() {
    update_config ".linux.seccomp = $1"
}

# set_seccomp_file FILE: linux.seccomp = the content of FILE.
set_seccomp_file() {
    local tmp
    tmp=$(mktemp "$BUNDLE/config.json.XXXXXX")
    jq --slurpfile p "$1" '.linux.seccomp = $p[0]' "$BUNDLE/config.json" >"$tmp"
    mv "$tmp" "$BUNDLE/config.json"
}

# deny_mkdir ACTION_JSON_FIELDS: allow everything, mkdir/mkdirat get the
# given action fields (e.g. '"action": "SCMP_ACT_ERRNO", "errnoRet": 95').
deny_mkdir() {
    set_seccomp "{\"defaultAction\": \"SCMP_ACT_ALLOW\",
        \"syscalls\": [{\"names\": [\"mkdir\", \"mkdirat\"], $1}]}"
}

# expand_podman_profile OUT: podman's template (archMap, includes/excludes)
# expanded the way podman does for amd64 and its default capabilities.
expand_podman_profile() {
    jq --argjson caps '["CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_FOWNER","CAP_FSETID","CAP_KILL",
            "CAP_NET_BIND_SERVICE","CAP_SETFCAP","CAP_SETGID","CAP_SETPCAP","CAP_SETUID","CAP_SYS_CHROOT"]' '
        # containers/common: includes.arches lists arches one of which must
        # be ours, includes.caps caps that must all be held; excludes.* drop
        # the rule if our arch or any held cap is listed.
        def all_in($xs; $set): ($xs // []) | all(. as $x | $set | index($x));
        def any_in($xs; $set): ($xs // []) | any(. as $x | $set | index($x));
        def arch_ok($xs): ($xs // []) | (length == 0 or index("amd64") != null);
        {
            defaultAction,
            defaultErrnoRet,
            architectures: (.archMap[] | select(.architecture == "SCMP_ARCH_X86_64")
                            | [.architecture] + .subArchitectures),
            syscalls: [.syscalls[]
                | select(arch_ok(.includes.arches) and all_in(.includes.caps; $caps)
                         and (any_in(.excludes.arches; ["amd64"]) | not)
                         and (any_in(.excludes.caps; $caps) | not))
                | {names, action, args: (.args // [])} + (if .errnoRet then {errnoRet} else {} end)]
        }' "$PODMAN_TEMPLATE" >"$1"
}

require_x86_64() {
    [[ $(uname -m) == x86_64 ]] || skip "the profile under test is the x86_64 one"
}

ensure_listener() {
    command -v cc >/dev/null || skip "no C compiler to build the seccomp listener"
    (
        flock 9
        if [[ ! -x $LISTENER_BIN || $LISTENER_SOURCE -nt $LISTENER_BIN ]]; then
            cc -O2 -Wall -o "$LISTENER_BIN.tmp" "$LISTENER_SOURCE" && mv "$LISTENER_BIN.tmp" "$LISTENER_BIN"
        fi
    ) 9>"$LISTENER_BIN.lock"
    [[ -x $LISTENER_BIN ]] || fail "building $LISTENER_SOURCE failed"
}

# start_listener ANSWER: the agent on $TEST_DIR/agent.sock, state JSON to
# $TEST_DIR/state.json, answering one notification with ANSWER.
start_listener() {
    ensure_listener
    SOCK=$TEST_DIR/agent.sock
    STATE_OUT=$TEST_DIR/state.json
    timeout 60 "$LISTENER_BIN" "$SOCK" "$STATE_OUT" "$1" 3>&- &
    LISTENER_PID=$!
    local i
    for ((i = 0; i < 200; i++)); do
        [[ -e $STATE_OUT.ready ]] && return 0
        sleep 0.05
    done
    fail "the seccomp listener never became ready"
}

# syscall_number NAME: the number of a syscall on this machine.
syscall_number() {
    printf '#include <sys/syscall.h>\nSYS_%s\n' "$1" | cc -E -P - | tail -n1
}

@test "seccomp [no profile: Seccomp 0 in /proc/self/status]" {
    set_args grep -E '^Seccomp:' /proc/self/status
    runtime run --bundle "$BUNDLE" "$ID"
    assert_success
    assert_output --regexp '^Seccomp:[[:space:]]+0$'
}

@test "seccomp [mkdir denied with errnoRet 95: EOPNOTSUPP, one filter in filter mode]" {
    deny_mkdir '"action": "SCMP_ACT_ERRNO", "errnoRet": 95'
    set_args sh -c 'mkdir /tmp/denied; echo "mkdir=$?"; [ -e /tmp/denied ] || echo absent
                    touch /tmp/allowed && echo touch-ok; grep -E "^Seccomp(_filters)?:" /proc/self/status'
    runtime run --bundle "$BUNDLE" "$ID"
    assert_success
    assert_line --partial "can't create directory '/tmp/denied': Operation not supported"
    assert_line mkdir=1
    assert_line absent
    assert_line touch-ok
    assert_line --regexp '^Seccomp:[[:space:]]+2$'
    assert_line --regexp '^Seccomp_filters:[[:space:]]+1$'
}

@test "seccomp [SCMP_ACT_ERRNO without errnoRet: EPERM]" {
    deny_mkdir '"action": "SCMP_ACT_ERRNO"'
    set_args sh -c 'mkdir /tmp/denied'
    runtime run --bundle "$BUNDLE" "$ID"
    assert_failure 1
    assert_output --partial 'Operation not permitted'
}

@test "seccomp [SCMP_ACT_KILL_PROCESS: the process dies of SIGSYS]" {
    deny_mkdir '"action": "SCMP_ACT_KILL_PROCESS"'
    set_args sh -c 'mkdir /tmp/denied; echo "status=$?"'
    runtime run --bundle "$BUNDLE" "$ID"
    assert_success
    # 128 + SIGSYS (31)
    assert_line status=159
}

@test "seccomp [argument operators: EQ NE LT LE GE GT MASKED_EQ on chmod's mode]" {
    # chmod(path, mode): argument 1 is the mode. Each row: operator, value,
    # valueTwo, a mode the rule must refuse, a mode it must let through.
    local rows=(
        "SCMP_CMP_EQ 448 0 700 755"
        "SCMP_CMP_NE 448 0 755 700"
        "SCMP_CMP_LT 448 0 644 700"
        "SCMP_CMP_LE 448 0 700 755"
        "SCMP_CMP_GE 448 0 700 644"
        "SCMP_CMP_GT 448 0 755 700"
        "SCMP_CMP_MASKED_EQ 7 7 707 770"
    )
    local row op value two denied allowed
    for row in "${rows[@]}"; do
        read -r op value two denied allowed <<<"$row"
        ID=$(new_id)
        set_seccomp "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"chmod\", \"fchmodat\"],
            \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 95,
            \"args\": [{\"index\": 1, \"value\": $value, \"valueTwo\": $two, \"op\": \"$op\"}]}]}"
        set_args sh -c "touch /tmp/f; chmod $denied /tmp/f; echo denied=\$?; chmod $allowed /tmp/f; echo allowed=\$?; stat -c %a /tmp/f"
        runtime run --bundle "$BUNDLE" "$ID"
        assert_success
        echo "operator $op" >&2
        assert_line denied=1
        assert_line allowed=0
        assert_line "$allowed"
        assert_line --partial 'Operation not supported'
    done
}

@test "seccomp [architectures: the x86 family loads, an unknown one is refused by name]" {
    require_x86_64
    set_seccomp '{"defaultAction": "SCMP_ACT_ALLOW",
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 95}]}'
    set_args sh -c 'mkdir /tmp/denied'
    runtime run --bundle "$BUNDLE" "$ID"
    assert_failure 1
    assert_output --partial 'Operation not supported'

    ID=$(new_id)
    update_config '.linux.seccomp.architectures += ["SCMP_ARCH_NOT_A_CPU"]'
    set_args true
    runtime run --bundle "$BUNDLE" "$ID"
    assert_failure
    assert_output --partial SCMP_ARCH_NOT_A_CPU
}

@test "seccomp [unknown syscall names are skipped with a warning; the known ones still apply]" {
    set_seccomp '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names":
        ["no_such_syscall_tether", "mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 95}]}'
    set_args sh -c 'mkdir /tmp/denied'
    runtime --log "$TEST_DIR/runtime.log" run --bundle "$BUNDLE" "$ID"
    assert_failure 1
    assert_output --partial 'Operation not supported'
    run grep -F no_such_syscall_tether "$TEST_DIR/runtime.log"
    assert_success
    assert_output --partial warning
}

@test "seccomp [flags: LOG and SPEC_ALLOW load, an unknown flag is refused by name]" {
    deny_mkdir '"action": "SCMP_ACT_ERRNO", "errnoRet": 95'
    update_config '.linux.seccomp.flags = ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"]'
    set_args sh -c 'mkdir /tmp/denied'
    runtime run --bundle "$BUNDLE" "$ID"
    assert_failure 1
    assert_output --partial 'Operation not supported'

    ID=$(new_id)
    update_config '.linux.seccomp.flags = ["SECCOMP_FILTER_FLAG_BOGUS"]'
    set_args true
    runtime run --bundle "$BUNDLE" "$ID"
    assert_failure
    assert_output --partial SECCOMP_FILTER_FLAG_BOGUS
}

@test "seccomp [noNewPrivileges false: loaded while privileged, for a non-root user without CAP_SYS_ADMIN]" {
    # Without no_new_privs an unprivileged process may not load a filter
    # (EACCES): the init must load it before it drops CAP_SYS_ADMIN, as podman
    # (which sends noNewPrivileges false) relies on.
    deny_mkdir '"action": "SCMP_ACT_ERRNO", "errnoRet": 95'
    update_config '.process.noNewPrivileges = false | .process.user = {"uid": 1000, "gid": 1000}'
    set_args sh -c 'grep -E "^(NoNewPrivs|Seccomp|CapEff):" /proc/self/status; mkdir /tmp/denied'
    runtime run --bundle "$BUNDLE" "$ID"
    assert_failure 1
    assert_line --regexp '^NoNewPrivs:[[:space:]]+0$'
    assert_line --regexp '^Seccomp:[[:space:]]+2$'
    assert_line --regexp '^CapEff:[[:space:]]+0+$'
    assert_output --partial 'Operation not supported'
}

@test "seccomp [noNewPrivileges true: loaded after the credential switch, so a profile denying setresuid and capset starts]" {
    set_seccomp '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names":
        ["setresuid", "setresgid", "setuid", "setgid", "setgroups", "capset"], "action": "SCMP_ACT_ERRNO"}]}'
    update_config '.process.noNewPrivileges = true | .process.user = {"uid": 1000, "gid": 1000}'
    set_args sh -c 'id -u; grep -E "^(NoNewPrivs|Seccomp):" /proc/self/status'
    runtime run --bundle "$BUNDLE" "$ID"
    assert_success
    assert_line 1000
    assert_line --regexp '^NoNewPrivs:[[:space:]]+1$'
    assert_line --regexp '^Seccomp:[[:space:]]+2$'

    # The control: without no_new_privs the same profile is loaded before
    # the switch (it must be, see the test above) and the switch fails.
    ID=$(new_id)
    update_config '.process.noNewPrivileges = false'
    runtime run --bundle "$BUNDLE" "$ID"
    assert_failure
}

@test "seccomp [podman's default profile loads; the container runs; defaultErrnoRet applies]" {
    [[ -f $PODMAN_TEMPLATE ]] || skip "$PODMAN_TEMPLATE is not installed (golang-github-containers-common)"
    require_x86_64
    local profile=$TEST_DIR/podman-seccomp.json
    expand_podman_profile "$profile"
    # Sanity of the expansion itself: a real profile, not an empty one.
    [[ $(jq '[.syscalls[].names[]] | length' "$profile") -gt 300 ]]
    [[ $(jq -r .defaultErrnoRet "$profile") == 38 ]]
    set_seccomp_file "$profile"
    # podman's process: noNewPrivileges false, its default capabilities.
    update_config '.process.noNewPrivileges = false'
    set_args sh -c 'mkdir /tmp/d && echo mkdir-ok; grep -E "^Seccomp:" /proc/self/status'
    runtime run --bundle "$BUNDLE" "$ID"
    assert_success
    assert_line mkdir-ok
    assert_line --regexp '^Seccomp:[[:space:]]+2$'

    # Without mkdir in the allow list, mkdir gets the default action:
    # ERRNO with defaultErrnoRet 38, ENOSYS.
    ID=$(new_id)
    jq '.syscalls |= map(.names -= ["mkdir", "mkdirat"])' "$profile" >"$profile.nomkdir"
    set_seccomp_file "$profile.nomkdir"
    set_args sh -c 'mkdir /tmp/e'
    runtime run --bundle "$BUNDLE" "$ID"
    assert_failure 1
    assert_output --partial 'Function not implemented'
}

@test "seccomp [Docker's default profile (expanded, trimmed fixture) loads and the container runs]" {
    require_x86_64
    set_seccomp_file "$DOCKER_FIXTURE"
    update_config '.process.noNewPrivileges = false'
    set_args sh -c 'mkdir /tmp/d && chmod 700 /tmp/d && echo ok; grep -E "^Seccomp:" /proc/self/status'
    runtime run --bundle "$BUNDLE" "$ID"
    assert_success
    assert_line ok
    assert_line --regexp '^Seccomp:[[:space:]]+2$'
}

@test "seccomp notify [listenerPath gets the fd and the state; the agent answers mkdir with EXDEV]" {
    start_listener errno:18
    deny_mkdir '"action": "SCMP_ACT_NOTIFY"'
    update_config ".linux.seccomp.listenerPath = \"$SOCK\" | .linux.seccomp.listenerMetadata = \"agent-metadata-42\""
    set_args sh -c 'mkdir /tmp/notified; echo "mkdir=$?"; [ -e /tmp/notified ] || echo absent'
    runtime run --bundle "$BUNDLE" "$ID"
    assert_success
    assert_line --partial "can't create directory '/tmp/notified': Invalid cross-device link"
    assert_line mkdir=1
    assert_line absent

    timeout 10 tail --pid="$LISTENER_PID" -f /dev/null
    wait "$LISTENER_PID"
    LISTENER_PID=

    # The runtime-spec's ContainerProcessState.
    run jq -r '[.ociVersion != null, (.fds | join(",")), .metadata, .state.id, .state.status,
                (.pid == .state.pid and .pid > 0)] | map(tostring) | join(" ")' "$STATE_OUT"
    assert_success
    assert_output "true seccompFd agent-metadata-42 $ID creating true"
    run cat "$STATE_OUT.nr"
    assert_output --regexp "^($(syscall_number mkdir)|$(syscall_number mkdirat))$"
}

@test "seccomp notify [the agent lets mkdir CONTINUE: the directory is created]" {
    start_listener continue
    deny_mkdir '"action": "SCMP_ACT_NOTIFY"'
    update_config ".linux.seccomp.listenerPath = \"$SOCK\""
    set_args sh -c 'mkdir /tmp/continued && echo mkdir-ok; [ -d /tmp/continued ] && echo present'
    runtime run --bundle "$BUNDLE" "$ID"
    assert_success
    assert_line mkdir-ok
    assert_line present
    timeout 10 tail --pid="$LISTENER_PID" -f /dev/null
    wait "$LISTENER_PID"
    LISTENER_PID=
}

@test "seccomp notify [no listenerPath, or nobody listening: create fails and leaves nothing]" {
    deny_mkdir '"action": "SCMP_ACT_NOTIFY"'
    set_args true
    runtime run --bundle "$BUNDLE" "$ID"
    assert_failure
    assert_output --partial listenerPath

    ID=$(new_id)
    update_config ".linux.seccomp.listenerPath = \"$TEST_DIR/nobody.sock\""
    runtime run --bundle "$BUNDLE" "$ID"
    assert_failure
    assert_output --partial "$TEST_DIR/nobody.sock"
}
