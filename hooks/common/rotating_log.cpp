#include "hooks/common/rotating_log.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime/core/error.hpp"

namespace tether::hooks {
namespace {

constexpr std::uint64_t kNoSymlinks = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;

int open_beneath(int dir, const std::string& path, std::uint64_t flags, mode_t mode) {
    open_how how{};
    how.flags = flags;
    how.mode = flags & O_CREAT ? mode : 0;
    how.resolve = kNoSymlinks;
    return static_cast<int>(::syscall(SYS_openat2, dir, path.c_str(), &how, sizeof how));
}

void make_directories(const std::string& directory) {
    for (size_t slash = directory.find('/', 1);; slash = directory.find('/', slash + 1)) {
        std::string part = directory.substr(0, slash);
        if (::mkdir(part.c_str(), 0700) != 0 && errno != EEXIST) throw_errno("mkdir " + part);
        if (slash == std::string::npos) break;
    }
}

}  // namespace

RotatingLog::RotatingLog(const std::string& directory, const std::string& relative, std::uint64_t max_bytes,
                         int keep)
    : path_(directory + "/" + relative), max_bytes_(max_bytes), keep_(keep) {
    make_directories(directory);
    UniqueFd base(::open(directory.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!base) throw_errno("open the log directory " + directory);
    size_t slash = relative.find_last_of('/');
    name_ = slash == std::string::npos ? relative : relative.substr(slash + 1);
    if (slash == std::string::npos) {
        dir_ = std::move(base);
    } else {
        // A subdirectory of the log directory: it must exist and be a real
        // directory beneath it (renames below then stay in it).
        dir_.reset(open_beneath(base.get(), relative.substr(0, slash), O_PATH | O_DIRECTORY | O_CLOEXEC, 0));
        if (!dir_) throw_errno("decision log " + path_ + ": its directory (symlinks are not followed)");
    }
    open_file();
}

void RotatingLog::open_file() {
    UniqueFd file(open_beneath(dir_.get(), name_, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!file) throw_errno("decision log " + path_ + " (symlinks are not followed)");
    struct stat st;
    if (::fstat(file.get(), &st) != 0) throw_errno("fstat " + path_);
    if (!S_ISREG(st.st_mode)) throw Error("decision log " + path_ + ": not a regular file");
    file_ = std::move(file);
    size_ = static_cast<std::uint64_t>(st.st_size);
}

void RotatingLog::rotate() {
    for (int k = keep_; k >= 1; --k) {
        std::string from = k == 1 ? name_ : name_ + "." + std::to_string(k - 1);
        std::string to = name_ + "." + std::to_string(k);
        ::renameat(dir_.get(), from.c_str(), dir_.get(), to.c_str());  // a missing .k-1 is fine
    }
    open_file();
}

void RotatingLog::append(const std::string& text) {
    if (size_ > 0 && size_ + text.size() > max_bytes_) {
        try {
            rotate();
        } catch (const Error&) {
            // Keep appending to the file we have rather than lose lines.
        }
    }
    size_t done = 0;
    while (done < text.size()) {
        ssize_t n = retry_eintr([&] { return ::write(file_.get(), text.data() + done, text.size() - done); });
        if (n <= 0) return;
        done += static_cast<size_t>(n);
    }
    size_ += done;
}

}  // namespace tether::hooks
