#include "hooks/bpf/program_set.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <future>
#include <mutex>

#include "hooks/bpf/program_policy.hpp"
#include "runtime/core/bpf_syscall.hpp"
#include "runtime/core/error.hpp"

namespace tether::hooks::bpf {

using namespace tether::bpf;

namespace {

// bpf_get_current_comm and the ring buffer are GPL-only helpers.
constexpr char kLicense[] = "GPL";
constexpr char kBpffs[] = "/sys/fs/bpf";
constexpr char kHostSetDir[] = "/sys/fs/bpf/tether";
// Containers at once per host (the outer maps are not preallocated: an
// entry costs memory only while it exists).
constexpr uint32_t kMaxContainers = 65536;
// Free slots of a kind (container_slots.hpp keeps at most 8; several
// upkeeps at once may overshoot by a few).
constexpr uint32_t kFreeListEntries = 1024;
// A loader's own directory until its rename (bpffs refuses '.' in names).
constexpr char kStagingPrefix[] = "new-";

// The shared maps, in SharedMaps' then SlotPoolMaps' order, with their pin
// names.
constexpr const char* kMapPins[] = {"policies",      "events",     "original_by_cookie", "original_by_client",
                                    "dns_by_cookie", "free_basic", "free_transparent",   "slot_owners"};

// FNV-1a over 64-bit words (a tail byte by byte): enough to tell builds
// apart, not a security measure (only root can write under /sys/fs/bpf).
// Word-wise because every daemon hashes its 35 KB of instructions.
struct Fnv {
    uint64_t hash = 0xcbf29ce484222325ULL;
    void add(const void* data, size_t size) {
        const auto* bytes = static_cast<const uint8_t*>(data);
        size_t i = 0;
        for (; i + 8 <= size; i += 8) {
            uint64_t word;
            std::memcpy(&word, bytes + i, 8);
            hash = (hash ^ word) * 0x100000001b3ULL;
        }
        for (; i < size; ++i) hash = (hash ^ bytes[i]) * 0x100000001b3ULL;
    }
};

// What every set of this build holds: the digest, and the programs' names,
// attach types and uses (opening a pinned set needs no instructions).
struct Catalogue {
    std::string digest;
    std::vector<LoadedProgram> programs;  // fds empty
};

Catalogue make_catalogue() {
    // The map fds as placeholders: the digest is of what the programs do.
    SharedMaps placeholders{1, 2, 3, 4, 5};
    Catalogue catalogue;
    Fnv fnv;
    for (const auto& p : build_socket_programs(placeholders)) {
        catalogue.programs.push_back({p.name, p.attach_type, p.use, UniqueFd()});
        fnv.add(p.name.data(), p.name.size());
        fnv.add(&p.type, sizeof p.type);
        fnv.add(&p.attach_type, sizeof p.attach_type);
        fnv.add(p.code.data(), p.code.size() * sizeof(bpf_insn));
    }
    const uint32_t shapes[] = {sizeof(ProgramPolicy),       kEventRingBytes,   kOriginalDestinationEntries,
                               kDnsQueryEntries,            kMaxContainers,    sizeof(OriginalDestination),
                               sizeof(ClientKey),           std::size(kMapPins),   kFreeListEntries};
    fnv.add(shapes, sizeof shapes);
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(fnv.hash));
    catalogue.digest = hex;
    return catalogue;
}

// Built once per process (about 100 us: every program is generated).
const Catalogue& catalogue() {
    static const Catalogue built = make_catalogue();
    return built;
}

void remove_pinned_dir(const std::string& dir) {
    if (DIR* d = ::opendir(dir.c_str())) {
        while (dirent* entry = ::readdir(d)) {
            std::string name = entry->d_name;
            if (name != "." && name != "..") ::unlink((dir + "/" + name).c_str());
        }
        ::closedir(d);
    }
    ::rmdir(dir.c_str());
}

// Other builds' sets, and what a loader that died between its mkdir and its
// rename ("new-<pid>-<tid>" of a pid that no longer exists; bpffs refuses a
// dot in a name).
void remove_other_sets(const std::string& dir, const std::string& keep) {
    DIR* d = ::opendir(dir.c_str());
    if (!d) return;
    std::vector<std::string> stale;
    while (dirent* entry = ::readdir(d)) {
        std::string name = entry->d_name;
        if (name == keep) continue;
        const bool a_set = name.size() == 16 && name.find_first_not_of("0123456789abcdef") == std::string::npos;
        if (!a_set && name.rfind(kStagingPrefix, 0) != 0) continue;  // not ours
        if (!a_set) {
            pid_t owner = static_cast<pid_t>(std::atoi(name.c_str() + std::strlen(kStagingPrefix)));
            if (owner > 0 && (::kill(owner, 0) == 0 || errno != ESRCH)) continue;
        }
        stale.push_back(dir + "/" + name);
    }
    ::closedir(d);
    for (const auto& path : stale) remove_pinned_dir(path);
}

}  // namespace

UniqueFd make_container_map(ContainerMap kind) {
    switch (kind) {
        case ContainerMap::events: return create_ringbuf_map(kEventRingBytes, "tether_events");
        case ContainerMap::original_by_cookie:
            return create_lru_hash_map(sizeof(uint64_t), sizeof(OriginalDestination), kOriginalDestinationEntries,
                                       "tether_orig_ck");
        case ContainerMap::original_by_client:
            return create_lru_hash_map(sizeof(ClientKey), sizeof(OriginalDestination), kOriginalDestinationEntries,
                                       "tether_orig_cl");
        case ContainerMap::dns_by_cookie:
            return create_lru_hash_map(sizeof(uint64_t), sizeof(OriginalDestination), kDnsQueryEntries,
                                       "tether_dns_ck");
    }
    throw Error("unknown container map");
}

const std::string& ProgramSet::digest() { return catalogue().digest; }

ProgramSet ProgramSet::load() {
    ProgramSet set;
    set.map_fds_.push_back(create_cgroup_storage_map(sizeof(ProgramPolicy), "tether_policies"));
    // The templates only give the outer maps their inner maps' shape.
    const ContainerMap kinds[] = {ContainerMap::events, ContainerMap::original_by_cookie,
                                  ContainerMap::original_by_client, ContainerMap::dns_by_cookie};
    const char* names[] = {"tether_events_o", "tether_ck_o", "tether_cl_o", "tether_dns_o"};
    for (size_t i = 0; i < 4; ++i) {
        UniqueFd inner_template = make_container_map(kinds[i]);
        set.map_fds_.push_back(create_hash_of_maps(inner_template.get(), kMaxContainers, names[i]));
    }
    // A hash map's walk from its start scans its buckets (as many as its
    // entries at most) until the first entry: a free list sized for every
    // container made each claim scan 65,536 empty buckets.
    set.map_fds_.push_back(create_hash_map(sizeof(uint64_t), 1, kFreeListEntries, "tether_free_b"));
    set.map_fds_.push_back(create_hash_map(sizeof(uint64_t), 1, kFreeListEntries, "tether_free_t"));
    set.map_fds_.push_back(create_hash_map(sizeof(uint64_t), sizeof(uint64_t), kMaxContainers, "tether_owners"));
    set.point_at_map_fds();

    std::vector<SocketProgram> programs = build_socket_programs(set.maps_);
    set.programs_.resize(programs.size());
    auto load_range = [&](size_t first, size_t end) {
        for (size_t i = first; i < end; ++i)
            set.programs_[i] = {programs[i].name, programs[i].attach_type, programs[i].use,
                                load_program(programs[i].type, programs[i].attach_type, programs[i].code,
                                             "tether_" + programs[i].name, kLicense)};
    };
    // The verifier runs per program: half of them on a second thread. A
    // failure on either side waits for the other (the future joins) and is
    // thrown from here.
    const size_t half = programs.size() / 2;
    std::future<void> second_half = std::async(std::launch::async, load_range, half, programs.size());
    load_range(0, half);
    second_half.get();
    return set;
}

void ProgramSet::point_at_map_fds() {
    int* slots[] = {&maps_.policies,      &maps_.events,    &maps_.original_by_cookie, &maps_.original_by_client,
                    &maps_.dns_by_cookie, &pool_.free_basic, &pool_.free_transparent,  &pool_.owners};
    static_assert(std::size(slots) == std::size(kMapPins));
    for (size_t i = 0; i < map_fds_.size(); ++i) *slots[i] = map_fds_[i].get();
}

void ProgramSet::pin(const std::string& dir) const {
    for (size_t i = 0; i < map_fds_.size(); ++i) pin_object(map_fds_[i].get(), dir + "/" + kMapPins[i]);
    for (const auto& p : programs_) pin_object(p.fd.get(), dir + "/" + p.name);
}

ProgramSet ProgramSet::open_pinned(const std::string& dir) {
    ProgramSet set;
    for (size_t i = 0; i < std::size(kMapPins); ++i) {
        UniqueFd fd = pinned_object(dir + "/" + kMapPins[i]);
        if (!fd) throw Error("bpf(BPF_OBJ_GET) " + dir + "/" + kMapPins[i], errno);
        set.map_fds_.push_back(std::move(fd));
    }
    set.point_at_map_fds();
    for (const auto& p : catalogue().programs) {
        UniqueFd fd = pinned_object(dir + "/" + p.name);
        if (!fd) throw Error("bpf(BPF_OBJ_GET) " + dir + "/" + p.name, errno);
        set.programs_.push_back({p.name, p.attach_type, p.use, std::move(fd)});
    }
    set.reused_ = true;
    return set;
}

ProgramSet ProgramSet::pinned_in(const std::string& dir) {
    const std::string final_dir = dir + "/" + digest();
    struct stat st;
    if (::stat(final_dir.c_str(), &st) == 0) {
        try {
            return open_pinned(final_dir);
        } catch (const Error&) {
            // Pins removed under us (another build's cleanup): load anew.
        }
    }
    ProgramSet set = load();
    // new-<pid>-<tid>: two threads of one process may load at once.
    const std::string staging =
        dir + "/" + kStagingPrefix + std::to_string(::getpid()) + "-" + std::to_string(::gettid());
    remove_pinned_dir(staging);
    if (::mkdir(staging.c_str(), 0700) != 0) return set;
    try {
        set.pin(staging);
    } catch (const Error&) {
        remove_pinned_dir(staging);
        return set;
    }
    if (::syscall(SYS_renameat2, AT_FDCWD, staging.c_str(), AT_FDCWD, final_dir.c_str(), RENAME_NOREPLACE) != 0) {
        // EEXIST (ENOTEMPTY on some file systems): another loader won; its
        // set is the one later containers open, so use it too.
        remove_pinned_dir(staging);
        try {
            return open_pinned(final_dir);
        } catch (const Error&) {
            return set;
        }
    }
    remove_other_sets(dir, digest());
    return set;
}

std::shared_ptr<const ProgramSet> ProgramSet::shared() {
    struct statfs fs;
    bool mounted = ::statfs(kBpffs, &fs) == 0 && fs.f_type == BPF_FS_MAGIC;
    if (!mounted) mounted = ::mount("bpf", kBpffs, "bpf", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0700") == 0;
    if (!mounted || (::mkdir(kHostSetDir, 0700) != 0 && errno != EEXIST))
        return std::make_shared<const ProgramSet>(load());
    return std::make_shared<const ProgramSet>(pinned_in(kHostSetDir));
}

}  // namespace tether::hooks::bpf
