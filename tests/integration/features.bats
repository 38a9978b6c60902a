#!/usr/bin/env bats
# features: the runtime-spec features document (runc >= 1.1.0).

load helpers

@test "features [JSON with ociVersionMin/Max, hooks, mountOptions, linux]" {
    runtime features
    assert_success
    jq -e . <<<"$output" >/dev/null
    [[ $(jq -r .ociVersionMin <<<"$output") =~ ^1\. ]]
    [[ $(jq -r .ociVersionMax <<<"$output") =~ ^1\. ]]
    [[ $(jq -r '.hooks | index("prestart") != null' <<<"$output") == true ]]
    [[ $(jq -r '.hooks | index("poststop") != null' <<<"$output") == true ]]
    [[ $(jq -r '.mountOptions | index("bind") != null' <<<"$output") == true ]]
    [[ $(jq -r '.linux.namespaces | index("pid") != null' <<<"$output") == true ]]
    [[ $(jq -r '.linux.namespaces | index("user") != null' <<<"$output") == true ]]
    [[ $(jq -r '.linux.capabilities | index("CAP_SYS_ADMIN") != null' <<<"$output") == true ]]
    [[ $(jq -r '.linux.seccomp.enabled' <<<"$output") == true ]]
}
