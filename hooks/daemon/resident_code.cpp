#include "hooks/daemon/resident_code.hpp"

#include <sys/mman.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

namespace tether::hooks {

size_t drop_resident_code() {
    std::ifstream maps("/proc/self/maps");
    std::string line;
    size_t dropped = 0;
    while (std::getline(maps, line)) {
        unsigned long start = 0, end = 0;
        char perms[8] = {};
        unsigned long offset = 0;
        unsigned long inode = 0;
        char device[16] = {};
        int path_at = 0;
        if (std::sscanf(line.c_str(), "%lx-%lx %7s %lx %15s %lu %n", &start, &end, perms, &offset, device, &inode,
                        &path_at) < 6)
            continue;
        // A file's code only: not [vdso] (inode 0), nothing writable.
        if (inode == 0 || std::strcmp(perms, "r-xp") != 0) continue;
        if (::madvise(reinterpret_cast<void*>(start), end - start, MADV_DONTNEED) == 0) dropped += end - start;
    }
    return dropped;
}

}  // namespace tether::hooks
