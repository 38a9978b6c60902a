#!/usr/bin/env bats
# process.rlimits, oomScoreAdj, noNewPrivileges, linux.personality and the
# session keyring (--no-new-keyring), read back from /proc inside the
# container.

load helpers

# Three lines of /proc/self/limits, columns squeezed to one space.
LIMITS='grep -E "^Max (open files|core file size|processes) " /proc/self/limits | tr -s " "'

@test "rlimits [RLIMIT_NOFILE, RLIMIT_CORE and RLIMIT_NPROC applied in the container]" {
    update_config '.process.rlimits = [
        {"type": "RLIMIT_NOFILE", "soft": 123, "hard": 456},
        {"type": "RLIMIT_CORE", "soft": 0, "hard": 4096},
        {"type": "RLIMIT_NPROC", "soft": 777, "hard": 888}]'
    set_args sh -c "$LIMITS; ulimit -n"
    runtime run --bundle "$BUNDLE" "$ID"
    assert_success
    assert_line 'Max open files 123 456 files '
    assert_line 'Max core file size 0 4096 bytes '
    assert_line 'Max processes 777 888 processes '
    assert_line 123
}

@test "rlimits [unlimited (uint64 max) is written as unlimited]" {
    # jq would print 2^64-1 as a float: put the literal in with sed.
    update_config '.process.rlimits = [{"type": "RLIMIT_CORE", "soft": "UNLIMITED", "hard": "UNLIMITED"}]'
    set_args sh -c "$LIMITS"
    sed -i 's/"UNLIMITED"/18446744073709551615/g' "$BUNDLE/config.json"
    runtime run --bundle "$BUNDLE" "$ID"
    assert_success
    assert_line 'Max core file size unlimited unlimited bytes '
}

@test "rlimits [soft above hard is refused naming the limit; nothing is left behind]" {
    update_config '.process.rlimits = [{"type": "RLIMIT_NOFILE", "soft": 2048, "hard": 1024}]'
    set_args true
    runtime run --bundle "$BUNDLE" "$ID"
    assert_failure
    assert_output --partial RLIMIT_NOFILE
    assert_output --regexp 'soft.*above.*hard'
}

@test "rlimits [a hard limit above what the runtime may grant is refused naming the limit]" {
    # Above fs.nr_open no process may raise RLIMIT_NOFILE, with or without
    # CAP_SYS_RESOURCE: the same refusal on every machine.
    local over=$(($(cat /proc/sys/fs/nr_open) + 1))
    update_config ".process.rlimits = [{\"type\": \"RLIMIT_NOFILE\", \"soft\": 1024, \"hard\": $over}]"
    set_args true
    runtime run --bundle "$BUNDLE" "$ID"
    assert_failure
    assert_output --partial RLIMIT_NOFILE
    assert_output --partial "hard $over"
}

@test "rlimits [an unknown type is refused by name]" {
    update_config '.process.rlimits = [{"type": "RLIMIT_BOGUS", "soft": 1, "hard": 1}]'
    set_args true
    runtime run --bundle "$BUNDLE" "$ID"
    assert_failure
    assert_output --partial RLIMIT_BOGUS
}

@test "oomScoreAdj [raised to 500: /proc/self/oom_score_adj reads 500]" {
    # Raising needs no privilege; lowering below the runtime's own value
    # needs CAP_SYS_RESOURCE, which some machines do not grant even to root.
    update_config '.process.oomScoreAdj = 500'
    set_args cat /proc/self/oom_score_adj
    runtime run --bundle "$BUNDLE" "$ID"
    assert_success
    assert_output 500
}

@test "oomScoreAdj [absent: the runtime's own value is inherited]" {
    local mine
    mine=$(cat /proc/self/oom_score_adj)
    update_config 'del(.process.oomScoreAdj)'
    set_args cat /proc/self/oom_score_adj
    runtime run --bundle "$BUNDLE" "$ID"
    assert_success
    assert_output "$mine"
}

@test "noNewPrivileges [true: NoNewPrivs 1; false: NoNewPrivs 0]" {
    update_config '.process.noNewPrivileges = true'
    set_args grep -E '^NoNewPrivs:' /proc/self/status
    runtime run --bundle "$BUNDLE" "$ID"
    assert_success
    assert_output --regexp '^NoNewPrivs:[[:space:]]+1$'

    ID=$(new_id)
    update_config '.process.noNewPrivileges = false'
    runtime run --bundle "$BUNDLE" "$ID"
    assert_success
    assert_output --regexp '^NoNewPrivs:[[:space:]]+0$'
}

@test "personality [LINUX32: uname -m reports a 32-bit machine]" {
    [[ $(uname -m) == x86_64 ]] || skip "LINUX32 is checked through uname on x86_64"
    update_config '.linux.personality = {"domain": "LINUX32"}'
    set_args uname -m
    runtime run --bundle "$BUNDLE" "$ID"
    assert_success
    assert_output i686
}

@test "personality [LINUX with ADDR_NO_RANDOMIZE: /proc/self/personality shows the flag]" {
    update_config '.linux.personality = {"domain": "LINUX", "flags": ["ADDR_NO_RANDOMIZE"]}'
    set_args cat /proc/self/personality
    runtime run --bundle "$BUNDLE" "$ID"
    assert_success
    # ADDR_NO_RANDOMIZE = 0x0040000
    assert_output 00040000
}

@test "personality [an unknown domain is refused by name]" {
    update_config '.linux.personality = {"domain": "WINDOWS"}'
    set_args true
    runtime run --bundle "$BUNDLE" "$ID"
    assert_failure
    assert_output --partial WINDOWS
}

@test "session keyring [a new one named after the container; --no-new-keyring keeps the caller's]" {
    # /proc/keys is masked by default; unmask it to see the keyrings the
    # process holds.
    update_config '.linux.maskedPaths -= ["/proc/keys"]'
    set_args sh -c 'grep -o "_ses[^ ]*" /proc/keys || echo no-session-keyring'
    runtime run --bundle "$BUNDLE" "$ID"
    assert_success
    assert_line --partial "_ses.$ID"

    ID=$(new_id)
    runtime create --no-new-keyring --bundle "$BUNDLE" "$ID"
    assert_success
    runtime start "$ID"
    assert_success
    wait_for_status "$ID" stopped
    run container_output "$ID"
    refute_output --partial "_ses.$ID"
    runtime delete "$ID"
    assert_success
}
