#!/usr/bin/env bats
# --version: free text that podman shows verbatim in `podman info`.

load helpers

@test "--version [name, version and spec version]" {
    runtime --version
    assert_success
    assert_line --index 0 --regexp "^$RUNTIME_NAME version [0-9]+\.[0-9]+\.[0-9]+"
    assert_line --regexp '^spec: 1\.[0-9]+\.[0-9]+'
}

@test "-v [same as --version]" {
    runtime --version
    expected=$output
    runtime -v
    assert_success
    assert_output "$expected"
}
