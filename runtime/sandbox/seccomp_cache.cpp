#include "runtime/sandbox/seccomp_cache.hpp"

#include <fcntl.h>
#include <linux/bpf_common.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace tether::sandbox {
namespace {

constexpr std::string_view kMagic = "tether-seccomp-cache v1\n";
constexpr size_t kMaxKey = 4096;
constexpr size_t kMaxInstructions = BPF_MAXINSNS;
constexpr size_t kMaxFile = kMagic.size() + 4 + kMaxKey + 4 + kMaxInstructions * sizeof(sock_filter) + 8;

// FNV-1a: finds corruption, not forgery (the file's owner is trusted, see
// the header).
std::uint64_t fnv1a(std::string_view bytes) {
    std::uint64_t hash = 0xcbf29ce484222325ULL;
    for (unsigned char c : bytes) {
        hash ^= c;
        hash *= 0x100000001b3ULL;
    }
    return hash;
}

template <typename T>
void append_raw(std::string& out, const T& value) {
    out.append(reinterpret_cast<const char*>(&value), sizeof value);
}

template <typename T>
bool take_raw(std::string_view& in, T& value) {
    if (in.size() < sizeof value) return false;
    std::memcpy(&value, in.data(), sizeof value);
    in.remove_prefix(sizeof value);
    return true;
}

// Only our own user may have written it, and nobody else may write it: the
// attacker we stop is another user (or a container's process with a bind of
// the state root) planting a permissive program.
bool trusted(const struct stat& st) {
    return st.st_uid == ::geteuid() && (st.st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

bool disabled_by_environment() {
    const char* knob = std::getenv("TETHER_SECCOMP_CACHE");
    return knob && std::string_view(knob) == "0";
}

// The cache directory, opened when it is ours; created when absent and
// `create` is set.
UniqueFd open_cache_dir(const std::string& dir, bool create) {
    UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd && errno == ENOENT && create) {
        if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return UniqueFd();
        fd = UniqueFd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    }
    struct stat st;
    if (!fd || ::fstat(fd.get(), &st) != 0 || !trusted(st)) return UniqueFd();
    return fd;
}

}  // namespace

std::string seccomp_cache_environment() {
    struct stat exe;
    if (::stat("/proc/self/exe", &exe) != 0) return "";
    struct utsname uts;
    if (::uname(&uts) != 0) return "";
    const scmp_version* version = seccomp_version();
    std::string env = "exe=" + std::to_string(exe.st_dev) + ":" + std::to_string(exe.st_ino) + ":" +
                      std::to_string(exe.st_size) + ":" + std::to_string(exe.st_mtim.tv_sec) + "." +
                      std::to_string(exe.st_mtim.tv_nsec) + ":" + std::to_string(exe.st_ctim.tv_sec) + "." +
                      std::to_string(exe.st_ctim.tv_nsec);
    env += "\nkernel=" + std::string(uts.release) + " " + uts.version + " " + uts.machine;
    if (version)
        env += "\nlibseccomp=" + std::to_string(version->major) + "." + std::to_string(version->minor) + "." +
               std::to_string(version->micro);
    return env;
}

std::string encode_cached_program(const std::string& key, const SeccompProgram& program) {
    std::string out(kMagic);
    append_raw(out, static_cast<std::uint32_t>(key.size()));
    out += key;
    append_raw(out, static_cast<std::uint32_t>(program.size()));
    out.append(reinterpret_cast<const char*>(program.data()), program.size() * sizeof(sock_filter));
    append_raw(out, fnv1a(out));
    return out;
}

std::optional<SeccompProgram> decode_cached_program(std::string_view bytes, const std::string& key) {
    if (bytes.size() > kMaxFile || bytes.size() < kMagic.size() + 8) return std::nullopt;
    std::uint64_t stored_sum;
    std::memcpy(&stored_sum, bytes.data() + bytes.size() - 8, 8);
    std::string_view body = bytes.substr(0, bytes.size() - 8);
    if (fnv1a(body) != stored_sum) return std::nullopt;
    if (body.substr(0, kMagic.size()) != kMagic) return std::nullopt;
    body.remove_prefix(kMagic.size());
    std::uint32_t key_size;
    if (!take_raw(body, key_size) || key_size > kMaxKey || body.size() < key_size) return std::nullopt;
    if (body.substr(0, key_size) != key) return std::nullopt;
    body.remove_prefix(key_size);
    std::uint32_t count;
    if (!take_raw(body, count) || count == 0 || count > kMaxInstructions) return std::nullopt;
    if (body.size() != count * sizeof(sock_filter)) return std::nullopt;
    SeccompProgram program(count);
    std::memcpy(program.data(), body.data(), body.size());
    // The kernel checks the rest (seccomp_check_filter); a program that can
    // fall off its end is not one libseccomp made.
    if (BPF_CLASS(program.back().code) != BPF_RET) return std::nullopt;
    return program;
}

std::string seccomp_cache_dir(const std::string& state_root) { return state_root + "/.tether-seccomp-cache"; }

SeccompCache::SeccompCache(std::string dir) : dir_(std::move(dir)) {
    if (!dir_.empty() && !disabled_by_environment()) environment_ = seccomp_cache_environment();
}

std::string SeccompCache::key_for(const std::string& inputs) const { return environment_ + "\ninputs=" + inputs; }

std::optional<SeccompProgram> SeccompCache::lookup(const std::string& name, const std::string& key) const {
    if (environment_.empty()) return std::nullopt;
    UniqueFd dir = open_cache_dir(dir_, false);
    if (!dir) return std::nullopt;
    UniqueFd fd(::openat(dir.get(), name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    struct stat st;
    if (!fd || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) || !trusted(st) ||
        st.st_size > static_cast<off_t>(kMaxFile))
        return std::nullopt;
    std::string bytes(static_cast<size_t>(st.st_size), '\0');
    if (::pread(fd.get(), bytes.data(), bytes.size(), 0) != static_cast<ssize_t>(bytes.size())) return std::nullopt;
    return decode_cached_program(bytes, key);
}

void SeccompCache::store(const std::string& name, const std::string& key, const SeccompProgram& program) const {
    if (environment_.empty()) return;
    UniqueFd dir = open_cache_dir(dir_, true);
    if (!dir) return;
    // A private temporary name, then rename: a reader sees the old file or
    // the whole new one, and concurrent writers each write their own.
    const std::string temp = name + ".tmp." + std::to_string(::getpid());
    UniqueFd fd(::openat(dir.get(), temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd) return;
    const std::string bytes = encode_cached_program(key, program);
    bool written = ::write(fd.get(), bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size());
    fd.reset();
    if (!written || ::renameat(dir.get(), temp.c_str(), dir.get(), name.c_str()) != 0)
        ::unlinkat(dir.get(), temp.c_str(), 0);
}

SeccompProgram SeccompCache::get_or_compile(const std::string& name, const std::string& inputs,
                                            const std::function<SeccompProgram()>& compile) const {
    const std::string key = key_for(inputs);
    if (auto cached = lookup(name, key)) return std::move(*cached);
    SeccompProgram program = compile();
    store(name, key, program);
    return program;
}

}  // namespace tether::sandbox
