// Compiled seccomp programs kept between runs (issue 23).
//
// libseccomp takes about 3.3 ms to compile the sandbox's closures in a fresh
// process, every sandboxed `create` and `exec`, for a program that only
// changes with the tether binary, the kernel, libseccomp and the few inputs
// it is built from (the audit flag). The cache keeps the program the kernel
// takes (a sock_filter array) in <state root>/.tether-seccomp-cache/, one
// file per program name, with the full key inside.
//
// Trust: a cached program is loaded as the sandbox's filter, so whoever can
// write the file decides what the container may call. The directory and the
// file must belong to the runtime's own user and be writable by nobody else
// (the state root is root's, /run/tether by default): the only writer that
// passes is one who could replace the tether binary anyway. Everything else
// (a corrupted, truncated, foreign, symlinked, oversized file, another key,
// a program that does not end in a return) is a miss: the program is
// compiled as without a cache and the file rewritten. A failure to store is
// silent; the cache never makes `create` fail.
//
// TETHER_SECCOMP_CACHE=0 in the runtime's environment turns it off.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "runtime/sandbox/seccomp_program.hpp"

namespace tether::sandbox {

// What every cached program depends on besides its own inputs: the running
// tether binary (device, inode, size, mtime, ctime of /proc/self/exe), the
// kernel (uname release and version), the libseccomp version and the cache
// format. "" when the binary cannot be identified: then nothing is cached.
std::string seccomp_cache_environment();

// The file's bytes for `program` compiled under `key`, and back. decode
// accepts only what encode made with the same key: magic, exact size, key,
// checksum, 1..BPF_MAXINSNS instructions, the last one a BPF_RET.
std::string encode_cached_program(const std::string& key, const SeccompProgram& program);
std::optional<SeccompProgram> decode_cached_program(std::string_view bytes, const std::string& key);

class SeccompCache {
public:
    // dir: the cache directory (created 0700 on the first store). An empty
    // dir, or TETHER_SECCOMP_CACHE=0, makes every lookup a miss that stores
    // nothing.
    explicit SeccompCache(std::string dir);

    // The program `name` (a file name: "closures") built from `inputs`
    // ("audit=0"): the cached one when its key matches, else compile() and
    // store it.
    SeccompProgram get_or_compile(const std::string& name, const std::string& inputs,
                                  const std::function<SeccompProgram()>& compile) const;

    // The lookup alone (tests).
    std::optional<SeccompProgram> lookup(const std::string& name, const std::string& key) const;
    void store(const std::string& name, const std::string& key, const SeccompProgram& program) const;
    std::string key_for(const std::string& inputs) const;

private:
    std::string dir_;
    std::string environment_;
};

// <state root>/.tether-seccomp-cache (a dot name: `list` skips it).
std::string seccomp_cache_dir(const std::string& state_root);

}  // namespace tether::sandbox
