#!/usr/bin/env bats
# process.capabilities as the container's process sees them: the five sets
# in /proc/self/status (as hex masks), what a capability lets a process do,
# a non-root process.user keeping exactly its listed capabilities, and the
# names the runtime refuses.
#
# Capability numbers used below: CHOWN 0, KILL 5, NET_BIND_SERVICE 10,
# SYS_ADMIN 21, AUDIT_WRITE 29.

load helpers

setup() {
    require_runtime
    setup_bundle
    update_config '.root.readonly = false'
}

# set_caps BOUNDING EFFECTIVE PERMITTED INHERITABLE AMBIENT: each argument
# a comma-separated list of names without CAP_ ("" for an empty set).
set_caps() {
    local sets=(bounding effective permitted inheritable ambient) values=("$@") expr='.process.capabilities = {}' i
    for i in 0 1 2 3 4; do
        expr+=" | .process.capabilities.${sets[i]} = (\"${values[i]}\" | split(\",\") | map(select(. != \"\")) | map(\"CAP_\" + .))"
    done
    update_config "$expr"
}

# status_line FIELD: "FIELD:<tab>VALUE" as the kernel prints it.
status_line() {
    printf '%s:\t%s' "$1" "$2"
}

CAP_STATUS='grep -E "^Cap(Inh|Prm|Eff|Bnd|Amb):" /proc/self/status'

@test "capabilities [runc's default sets for root: bounding, effective, permitted are the three listed]" {
    # runc spec: AUDIT_WRITE, KILL, NET_BIND_SERVICE in bounding, effective,
    # permitted and ambient, no inheritable (so no ambient either: the
    # kernel raises only what is permitted and inheritable).
    set_args sh -c "$CAP_STATUS"
    runtime run --bundle "$BUNDLE" "$ID"
    assert_success
    assert_line "$(status_line CapInh 0000000000000000)"
    assert_line "$(status_line CapPrm 0000000020000420)"
    assert_line "$(status_line CapEff 0000000020000420)"
    assert_line "$(status_line CapBnd 0000000020000420)"
    assert_line "$(status_line CapAmb 0000000000000000)"
}

@test "capabilities [non-root user 1000 keeps exactly the listed sets (ambient carries them over exec)]" {
    set_caps CHOWN,KILL,NET_BIND_SERVICE,AUDIT_WRITE CHOWN,NET_BIND_SERVICE CHOWN,NET_BIND_SERVICE \
        CHOWN,NET_BIND_SERVICE CHOWN,NET_BIND_SERVICE
    update_config '.process.user = {"uid": 1000, "gid": 1000}'
    set_args sh -c "id -u; $CAP_STATUS"
    runtime run --bundle "$BUNDLE" "$ID"
    assert_success
    assert_line 1000
    assert_line "$(status_line CapInh 0000000000000401)"
    assert_line "$(status_line CapPrm 0000000000000401)"
    assert_line "$(status_line CapEff 0000000000000401)"
    assert_line "$(status_line CapBnd 0000000020000421)"
    assert_line "$(status_line CapAmb 0000000000000401)"
}

@test "capabilities [non-root user with CAP_CHOWN can chown to root; without it cannot]" {
    update_config '.process.user = {"uid": 1000, "gid": 1000}'
    set_args sh -c 'touch /tmp/mine && chown 0:0 /tmp/mine && stat -c %u:%g /tmp/mine'
    set_caps CHOWN CHOWN CHOWN CHOWN CHOWN
    runtime run --bundle "$BUNDLE" "$ID"
    assert_success
    assert_output 0:0

    ID=$(new_id)
    rm -f "$BUNDLE/rootfs/tmp/mine"
    set_caps KILL KILL KILL KILL KILL
    runtime run --bundle "$BUNDLE" "$ID"
    assert_failure
    assert_output --partial 'Operation not permitted'
}

@test "capabilities [non-root user without ambient: nothing permitted or effective after exec]" {
    # The kernel clears a non-root process's permitted set at exec unless
    # ambient capabilities carry it; runc and crun show the same.
    set_caps CHOWN,KILL CHOWN,KILL CHOWN,KILL CHOWN,KILL ''
    update_config '.process.user = {"uid": 1000, "gid": 1000}'
    set_args sh -c "$CAP_STATUS"
    runtime run --bundle "$BUNDLE" "$ID"
    assert_success
    assert_line "$(status_line CapInh 0000000000000021)"
    assert_line "$(status_line CapPrm 0000000000000000)"
    assert_line "$(status_line CapEff 0000000000000000)"
    assert_line "$(status_line CapBnd 0000000000000021)"
    assert_line "$(status_line CapAmb 0000000000000000)"
}

@test "capabilities [root without CAP_CHOWN in any set cannot chown]" {
    set_caps KILL KILL KILL '' ''
    set_args sh -c "touch /tmp/f; chown 1000 /tmp/f; echo chown=\$?; $CAP_STATUS"
    runtime run --bundle "$BUNDLE" "$ID"
    assert_success
    assert_line --partial 'Operation not permitted'
    assert_line chown=1
    assert_line "$(status_line CapEff 0000000000000020)"
    assert_line "$(status_line CapBnd 0000000000000020)"
}

@test "capabilities [all sets empty: root holds nothing]" {
    set_caps '' '' '' '' ''
    set_args sh -c "$CAP_STATUS"
    runtime run --bundle "$BUNDLE" "$ID"
    assert_success
    local field
    for field in CapInh CapPrm CapEff CapBnd CapAmb; do
        assert_line "$(status_line $field 0000000000000000)"
    done
}

@test "capabilities [CAP_BOGUS is refused with its name; nothing is left behind]" {
    update_config '.process.capabilities.bounding += ["CAP_BOGUS"]'
    set_args true
    runtime run --bundle "$BUNDLE" "$ID"
    assert_failure
    assert_output --partial CAP_BOGUS
}

@test "capabilities [effective outside permitted is refused naming the capability]" {
    set_caps CHOWN,KILL CHOWN,KILL KILL '' ''
    set_args true
    runtime run --bundle "$BUNDLE" "$ID"
    assert_failure
    assert_output --partial CAP_CHOWN
}

@test "capabilities [ambient without inheritable is skipped with a warning in --log]" {
    set_caps KILL KILL KILL '' KILL
    update_config '.process.user = {"uid": 1000, "gid": 1000}'
    set_args sh -c "$CAP_STATUS"
    runtime --log "$TEST_DIR/runtime.log" run --bundle "$BUNDLE" "$ID"
    assert_success
    assert_line "$(status_line CapAmb 0000000000000000)"
    run grep -i 'ambient.*CAP_KILL' "$TEST_DIR/runtime.log"
    assert_success
}

@test "capabilities [CAP_SYS_ADMIN listed: mount works in the container; not listed: it does not]" {
    set_caps SYS_ADMIN SYS_ADMIN SYS_ADMIN '' ''
    set_args sh -c 'mkdir -p /mnt/t && mount -t tmpfs none /mnt/t && echo mounted'
    runtime run --bundle "$BUNDLE" "$ID"
    assert_success
    assert_output mounted

    ID=$(new_id)
    set_caps KILL KILL KILL '' ''
    runtime run --bundle "$BUNDLE" "$ID"
    assert_failure
    # busybox's words for EPERM from mount(2)
    assert_output --partial 'permission denied'
}
