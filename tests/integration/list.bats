#!/usr/bin/env bats
# list: table and --format json.

load helpers

@test "list [empty root: header only, no containers]" {
    runtime list
    assert_success
    refute_output --partial "$ID"
}

@test "list [table: header and one line per container]" {
    runtime create --bundle "$BUNDLE" "$ID"
    id2=$(new_id)
    runtime run -d --bundle "$BUNDLE" "$id2"
    wait_for_status "$id2" running
    runtime list
    assert_success
    assert_line --index 0 --regexp '^ID +PID +STATUS +BUNDLE +CREATED +OWNER'
    assert_line --regexp "^$ID +[0-9]+ +created +$BUNDLE "
    assert_line --regexp "^$id2 +[0-9]+ +running +$BUNDLE "
}

@test "list -q [ids only]" {
    runtime create --bundle "$BUNDLE" "$ID"
    runtime list -q
    assert_success
    assert_output "$ID"
}

@test "list --format json [array of state objects]" {
    update_config '.annotations = {"org.example.list": "yes"}'
    runtime create --bundle "$BUNDLE" "$ID"
    runtime list --format json
    assert_success
    [[ $(jq -r 'type' <<<"$output") == array ]]
    [[ $(jq -r 'length' <<<"$output") == 1 ]]
    [[ $(jq -r '.[0].id' <<<"$output") == "$ID" ]]
    [[ $(jq -r '.[0].status' <<<"$output") == created ]]
    [[ $(jq -r '.[0].pid' <<<"$output") == "$(state_field "$ID" pid)" ]]
    [[ $(jq -r '.[0].bundle' <<<"$output") == "$BUNDLE" ]]
    [[ $(jq -r '.[0].ociVersion' <<<"$output") =~ ^1\. ]]
    [[ -n $(jq -r '.[0].created' <<<"$output") ]]
    [[ $(jq -r '.[0].annotations["org.example.list"]' <<<"$output") == yes ]]
}

@test "list --format json [no containers: empty array or null]" {
    runtime list --format json
    assert_success
    [[ $(jq -c '. // []' <<<"$output") == '[]' ]]
}

@test "list -f json [stopped container listed as stopped]" {
    set_args true
    runtime create --bundle "$BUNDLE" "$ID"
    runtime start "$ID"
    wait_for_status "$ID" stopped
    runtime list -f json
    assert_success
    [[ $(jq -r --arg id "$ID" '.[] | select(.id == $id) | .status' <<<"$output") == stopped ]]
}
