#!/usr/bin/env bats
# tether-tests: serial (mounts and unmounts the host's hugetlb v1 hierarchy for crun)
# The runtime under test next to runc and crun: the formats that podman and
# containerd parse must match (state JSON keys, list JSON keys, pid file
# bytes) and the lifecycle must report the same statuses.

load helpers

# prepare_crun may mount the hugetlb v1 hierarchy crun needs on a hybrid
# host; what this file mounted it unmounts, so the host is left as found.
setup_file() {
    if awk '$2 == "/sys/fs/cgroup/hugetlb"' /proc/self/mounts | grep -q .; then
        export HUGETLB_WAS_MOUNTED=1
    fi
}

teardown_file() {
    [[ -z ${HUGETLB_WAS_MOUNTED:-} ]] || return 0
    if awk '$2 == "/sys/fs/cgroup/hugetlb"' /proc/self/mounts | grep -q .; then
        umount /sys/fs/cgroup/hugetlb && rmdir /sys/fs/cgroup/hugetlb ||
            echo "compat.bats: could not unmount /sys/fs/cgroup/hugetlb" >&2
    fi
    return 0
}

setup() {
    require_runtime
    setup_bundle
    prepare_crun
    command -v runc >/dev/null || skip "runc is not installed"
    update_config '.annotations = {"org.example.compat": "1"}'
}

# in_runtime NAME ARGS...: NAME is runc, crun or "under-test".
in_runtime() {
    local name=$1
    shift
    case $name in
        under-test) runtime "$@" ;;
        *) runtime_bin "$(command -v "$name")" "$TEST_DIR/root-$name" "$@" ;;
    esac
}

@test "state JSON [keys of runc's state present; same status sequence as runc and crun]" {
    local name id keys
    declare -A seen
    for name in runc crun under-test; do
        id=$(new_id)
        in_runtime "$name" create --bundle "$BUNDLE" "$id"
        assert_success
        in_runtime "$name" state "$id"
        assert_success
        seq=$(jq -r .status <<<"$output")
        keys=$(jq -r 'keys | join(" ")' <<<"$output")
        seen[$name]=$keys
        in_runtime "$name" start "$id"
        assert_success
        in_runtime "$name" state "$id"
        seq+=" $(jq -r .status <<<"$output")"
        in_runtime "$name" kill "$id" KILL
        assert_success
        local i
        for ((i = 0; i < 100; i++)); do
            in_runtime "$name" state "$id"
            [[ $(jq -r .status <<<"$output") == stopped ]] && break
            sleep 0.1
        done
        seq+=" $(jq -r .status <<<"$output")"
        echo "$name: $seq; keys: $keys" >&2
        assert_equal "$seq" "created running stopped"
        in_runtime "$name" delete "$id"
        assert_success
    done
    # podman is written against runc: every key runc prints must be there.
    for key in ${seen[runc]}; do
        [[ " ${seen[under-test]} " == *" $key "* ]] || {
            echo "state of $RUNTIME_NAME lacks runc's key '$key'" >&2
            return 1
        }
    done
    for key in ociVersion id status pid bundle; do
        [[ " ${seen[crun]} " == *" $key "* ]]
    done
}

@test "list --format json [keys of runc's list present]" {
    local name id
    declare -A seen
    for name in runc crun under-test; do
        id=$(new_id)
        in_runtime "$name" create --bundle "$BUNDLE" "$id"
        assert_success
        in_runtime "$name" list --format json
        assert_success
        seen[$name]=$(jq -r --arg id "$id" '.[] | select(.id == $id) | keys | join(" ")' <<<"$output")
        echo "$name list keys: ${seen[$name]}" >&2
        [[ -n ${seen[$name]} ]]
        in_runtime "$name" delete --force "$id"
        assert_success
    done
    for key in ${seen[runc]}; do
        [[ " ${seen[under-test]} " == *" $key "* ]] || {
            echo "list of $RUNTIME_NAME lacks runc's key '$key'" >&2
            return 1
        }
    done
}

@test "pid file [decimal, no trailing newline, equal to state.pid in runc, crun and the runtime]" {
    local name id
    for name in runc crun under-test; do
        id=$(new_id)
        in_runtime "$name" create --bundle "$BUNDLE" --pid-file "$TEST_DIR/$name.pid" "$id"
        assert_success
        # Bytes, not lines: containerd's strconv.Atoi rejects "123\n".
        run od -An -c "$TEST_DIR/$name.pid"
        echo "$name pid file: $output" >&2
        grep -qE '^[1-9][0-9]*$' "$TEST_DIR/$name.pid"
        [[ $(tail -c1 "$TEST_DIR/$name.pid" | od -An -tx1 | tr -d ' ') != 0a ]]
        in_runtime "$name" state "$id"
        [[ $(jq -r .pid <<<"$output") == "$(cat "$TEST_DIR/$name.pid")" ]]
        [[ $(stat -c %a "$TEST_DIR/$name.pid") == 644 ]] || [[ $name == crun ]]
        in_runtime "$name" delete --force "$id"
        assert_success
    done
}

@test "delete --force of an unknown id [exit 0 in runc, crun and the runtime]" {
    local name
    for name in runc crun under-test; do
        in_runtime "$name" delete --force no-such-container
        assert_success
    done
}

@test "run exit code [same in runc, crun and the runtime]" {
    set_args sh -c 'exit 42'
    local name
    for name in runc crun under-test; do
        in_runtime "$name" run --bundle "$BUNDLE" "$(new_id)"
        assert_equal "$status" 42
    done
}
