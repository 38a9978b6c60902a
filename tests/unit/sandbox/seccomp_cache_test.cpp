// The seccomp program cache: a cached program is loaded as the sandbox's
// filter, so every file that is not exactly what the runtime stored under the
// same key, owned by its own user and writable by nobody else, must be a miss
// (and then compiled, never trusted).
#include <gtest/gtest.h>
#include <linux/filter.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "runtime/sandbox/seccomp_cache.hpp"
#include "runtime/sandbox/seccomp_closures.hpp"
#include "tests/unit/scratch_dir.hpp"

namespace tether::sandbox {
namespace {

SeccompProgram allow_all() { return {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)}; }

// The closures' compile, counting in `calls` how often the cache ran it.
auto counted_compile(int& calls) {
    return [&calls] {
        ++calls;
        return compile_seccomp_closures(false);
    };
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_file(const std::string& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

TEST(SeccompCacheFormat, RoundTripsTheClosures) {
    const SeccompProgram program = compile_seccomp_closures(false);
    const auto decoded = decode_cached_program(encode_cached_program("k", program), "k");
    ASSERT_TRUE(decoded);
    ASSERT_EQ(decoded->size(), program.size());
    EXPECT_EQ(0, std::memcmp(decoded->data(), program.data(), program.size() * sizeof(sock_filter)));
}

TEST(SeccompCacheFormat, AnotherKeyIsAMiss) {
    const std::string bytes = encode_cached_program("audit=0", allow_all());
    EXPECT_FALSE(decode_cached_program(bytes, "audit=1"));
    EXPECT_FALSE(decode_cached_program(bytes, "audit=0 "));
    EXPECT_FALSE(decode_cached_program(bytes, ""));
}

// Every single flipped bit, and every truncation, is refused.
TEST(SeccompCacheFormat, AnyCorruptionIsAMiss) {
    const std::string good = encode_cached_program("key", compile_seccomp_closures(false));
    ASSERT_TRUE(decode_cached_program(good, "key"));
    for (size_t i = 0; i < good.size(); ++i) {
        for (int bit = 0; bit < 8; ++bit) {
            std::string bad = good;
            bad[i] = static_cast<char>(bad[i] ^ (1 << bit));
            ASSERT_FALSE(decode_cached_program(bad, "key")) << "byte " << i << " bit " << bit;
        }
    }
    for (size_t size = 0; size < good.size(); ++size)
        ASSERT_FALSE(decode_cached_program(std::string_view(good).substr(0, size), "key")) << size;
    EXPECT_FALSE(decode_cached_program(good + std::string(8, '\0'), "key"));
}

TEST(SeccompCacheFormat, AProgramThatDoesNotEndInAReturnIsAMiss) {
    SeccompProgram no_return = {BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0)};
    EXPECT_FALSE(decode_cached_program(encode_cached_program("k", no_return), "k"));
    EXPECT_FALSE(decode_cached_program(encode_cached_program("k", {}), "k"));
    SeccompProgram too_long(BPF_MAXINSNS + 1, BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
    EXPECT_FALSE(decode_cached_program(encode_cached_program("k", too_long), "k"));
}

TEST(SeccompCache, StoresOnAMissAndReadsOnAHit) {
    const test_support::ScratchDir tmp("seccomp-cache-test");
    const SeccompCache cache(seccomp_cache_dir(tmp.path()));
    int compiled = 0;
    auto compile = counted_compile(compiled);
    const SeccompProgram first = cache.get_or_compile("closures", "audit=0", compile);
    const SeccompProgram second = cache.get_or_compile("closures", "audit=0", compile);
    EXPECT_EQ(compiled, 1);
    ASSERT_EQ(first.size(), second.size());
    struct stat dir, file;
    ASSERT_EQ(0, ::stat(seccomp_cache_dir(tmp.path()).c_str(), &dir));
    EXPECT_EQ(dir.st_mode & 07777, 0700u);
    ASSERT_EQ(0, ::stat((seccomp_cache_dir(tmp.path()) + "/closures").c_str(), &file));
    EXPECT_EQ(file.st_mode & 07777, 0600u);
    // Other inputs under the same name: compiled again, and replace the file.
    cache.get_or_compile("closures", "audit=1", compile);
    EXPECT_EQ(compiled, 2);
}

// The attack: someone who may write the file (but is not the runtime's user)
// plants a permissive program with a valid format and the right key.
TEST(SeccompCache, AFileOthersCanWriteIsNotTrusted) {
    const test_support::ScratchDir tmp("seccomp-cache-test");
    const SeccompCache cache(seccomp_cache_dir(tmp.path()));
    const std::string key = cache.key_for("audit=0");
    cache.store("closures", key, allow_all());
    const std::string file = seccomp_cache_dir(tmp.path()) + "/closures";
    ASSERT_TRUE(cache.lookup("closures", key)) << "the control: our own file is used";
    ASSERT_EQ(0, ::chmod(file.c_str(), 0620));
    EXPECT_FALSE(cache.lookup("closures", key)) << "group-writable";
    ASSERT_EQ(0, ::chmod(file.c_str(), 0602));
    EXPECT_FALSE(cache.lookup("closures", key)) << "world-writable";
    ASSERT_EQ(0, ::chmod(file.c_str(), 0600));
    ASSERT_EQ(0, ::chmod(seccomp_cache_dir(tmp.path()).c_str(), 0777));
    EXPECT_FALSE(cache.lookup("closures", key)) << "in a world-writable directory";
    ASSERT_EQ(0, ::chmod(seccomp_cache_dir(tmp.path()).c_str(), 0700));
    if (::geteuid() == 0) {
        ASSERT_EQ(0, ::chown(file.c_str(), 65534, 65534));
        EXPECT_FALSE(cache.lookup("closures", key)) << "owned by another user";
    }
}

TEST(SeccompCache, ASymlinkIsNotFollowed) {
    const test_support::ScratchDir tmp("seccomp-cache-test");
    const SeccompCache cache(seccomp_cache_dir(tmp.path()));
    const std::string key = cache.key_for("audit=0");
    cache.store("planted", key, allow_all());
    const std::string dir = seccomp_cache_dir(tmp.path());
    ASSERT_EQ(0, ::symlink((dir + "/planted").c_str(), (dir + "/closures").c_str()));
    EXPECT_FALSE(cache.lookup("closures", key));
    // Nor a symlinked cache directory.
    const std::string other = tmp.path() + "/other";
    ASSERT_EQ(0, ::mkdir(other.c_str(), 0700));
    const SeccompCache through_link(seccomp_cache_dir(other));
    ASSERT_EQ(0, ::symlink(dir.c_str(), seccomp_cache_dir(other).c_str()));
    EXPECT_FALSE(through_link.lookup("planted", key));
}

TEST(SeccompCache, ACorruptedFileIsCompiledAndRewritten) {
    const test_support::ScratchDir tmp("seccomp-cache-test");
    const SeccompCache cache(seccomp_cache_dir(tmp.path()));
    int compiled = 0;
    auto compile = counted_compile(compiled);
    cache.get_or_compile("closures", "audit=0", compile);
    const std::string file = seccomp_cache_dir(tmp.path()) + "/closures";
    const std::string good = read_file(file);
    std::string bad = good;
    bad[bad.size() / 2] ^= 0x40;
    write_file(file, bad);
    ::chmod(file.c_str(), 0600);
    cache.get_or_compile("closures", "audit=0", compile);
    EXPECT_EQ(compiled, 2);
    EXPECT_EQ(read_file(file), good);
}

TEST(SeccompCache, TheEnvironmentKnobTurnsItOff) {
    const test_support::ScratchDir tmp("seccomp-cache-test");
    ::setenv("TETHER_SECCOMP_CACHE", "0", 1);
    const SeccompCache cache(seccomp_cache_dir(tmp.path()));
    ::unsetenv("TETHER_SECCOMP_CACHE");
    int compiled = 0;
    for (int i = 0; i < 2; ++i) cache.get_or_compile("closures", "audit=0", counted_compile(compiled));
    EXPECT_EQ(compiled, 2);
    EXPECT_FALSE(std::filesystem::exists(seccomp_cache_dir(tmp.path())));
}

TEST(SeccompCache, TheKeyNamesTheBinaryAndTheKernel) {
    const std::string env = seccomp_cache_environment();
    EXPECT_NE(env.find("exe="), std::string::npos);
    EXPECT_NE(env.find("kernel="), std::string::npos);
    EXPECT_NE(env.find("libseccomp="), std::string::npos);
}

}  // namespace
}  // namespace tether::sandbox
