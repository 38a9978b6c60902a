#!/usr/bin/env bats
# process.user, umask, env, cwd and PATH lookup as the container sees them.

load helpers

run_in_container() {
    runtime run --bundle "$BUNDLE" "$ID"
}

@test "user [uid and gid from process.user]" {
    set_args sh -c 'id -u; id -g'
    update_config '.process.user = {"uid": 65534, "gid": 65534}'
    run_in_container
    assert_success
    assert_output $'65534\n65534'
}

@test "user [additionalGids become supplementary groups]" {
    set_args sh -c 'id -G'
    update_config '.process.user = {"uid": 1000, "gid": 1000, "additionalGids": [10, 20]}'
    run_in_container
    assert_success
    assert_output "1000 10 20"
}

@test "user [no additionalGids: no supplementary groups of the caller]" {
    set_args sh -c 'id -G'
    update_config '.process.user = {"uid": 1000, "gid": 1000}'
    run_in_container
    assert_success
    assert_output 1000
}

@test "user [umask 0077 from process.user.umask]" {
    set_args sh -c 'umask; touch /tmp/f; stat -c %a /tmp/f'
    update_config '.process.user.umask = 63 | .root.readonly = false'
    run_in_container
    assert_success
    assert_output $'0077\n600'
}

@test "user [umask 0022 (podman's 18)]" {
    set_args sh -c 'umask'
    update_config '.process.user.umask = 18'
    run_in_container
    assert_success
    assert_output 0022
}

@test "env [process.env is the whole environment]" {
    set_args sh -c 'echo "FOO=$FOO"; echo "EMPTY=[$EMPTY]"; env | grep -c HOST_ONLY_VAR || true'
    update_config '.process.env += ["FOO=bar baz", "EMPTY="]'
    HOST_ONLY_VAR=1 run_in_container
    assert_success
    assert_line "FOO=bar baz"
    assert_line "EMPTY=[]"
    assert_line 0
}

@test "cwd [process.cwd is the working directory]" {
    set_args pwd
    update_config '.process.cwd = "/usr/bin"'
    run_in_container
    assert_success
    assert_output /usr/bin
}

@test "cwd [a missing process.cwd is created inside the rootfs, as runc's init does, never on the host]" {
    set_args pwd
    update_config '.process.cwd = "/created/by/runtime" | .root.readonly = false'
    run_in_container
    assert_success
    assert_output /created/by/runtime
    [[ -d $BUNDLE/rootfs/created/by/runtime ]]
    [[ ! -e /created ]]
}

@test "HOME [from the container's /etc/passwd when process.env has none; / for a uid it lacks; a given HOME kept]" {
    set_args sh -c 'echo "$HOME"'
    update_config '.process.user = {"uid": 65534, "gid": 65534}'
    run_in_container
    assert_success
    assert_output /nonexistent
    runtime delete --force "$ID"
    update_config '.process.user = {"uid": 4242, "gid": 4242}'
    run_in_container
    assert_success
    assert_output /
    runtime delete --force "$ID"
    update_config '.process.env += ["HOME=/given"]'
    run_in_container
    assert_success
    assert_output /given
}

@test "PATH [bare command found through process.env PATH]" {
    set_args ls /etc/passwd
    update_config '.process.env = ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]'
    run_in_container
    assert_success
    assert_output /etc/passwd
}

@test "PATH [command only in a custom PATH directory]" {
    mkdir -p "$BUNDLE/rootfs/opt/tools"
    printf '#!/bin/sh\necho custom-tool-ran\n' >"$BUNDLE/rootfs/opt/tools/mytool"
    chmod +x "$BUNDLE/rootfs/opt/tools/mytool"
    set_args mytool
    update_config '.process.env = ["PATH=/opt/tools:/bin"]'
    run_in_container
    assert_success
    assert_output custom-tool-ran
}
