#include "runtime/core/fs.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vector>

#include "runtime/core/error.hpp"
#include "runtime/core/unique_fd.hpp"

namespace tether::fs {
namespace {

std::string read_fd(int fd, const std::string& path, size_t max_bytes) {
    std::string content;
    char buffer[16384];
    for (;;) {
        ssize_t n = retry_eintr([&] { return ::read(fd, buffer, sizeof buffer); });
        if (n < 0) throw_errno("read " + path);
        if (n == 0) break;
        content.append(buffer, static_cast<size_t>(n));
        if (content.size() > max_bytes)
            throw Error(path + ": file is larger than " + std::to_string(max_bytes) + " bytes");
    }
    return content;
}

void remove_tree_at(int parent, const char* name, dev_t device) {
    UniqueFd dir(::openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!dir) {
        ::unlinkat(parent, name, 0);
        return;
    }
    struct stat st;
    if (::fstat(dir.get(), &st) == 0 && st.st_dev != device) return;  // a mount: leave it
    DIR* stream = ::fdopendir(::dup(dir.get()));
    if (stream) {
        std::vector<std::string> names;
        while (struct dirent* entry = ::readdir(stream)) {
            std::string entry_name = entry->d_name;
            if (entry_name != "." && entry_name != "..") names.push_back(entry_name);
        }
        ::closedir(stream);
        for (const auto& entry_name : names) {
            if (::unlinkat(dir.get(), entry_name.c_str(), 0) != 0 && (errno == EISDIR || errno == EPERM))
                remove_tree_at(dir.get(), entry_name.c_str(), device);
        }
    }
    ::unlinkat(parent, name, AT_REMOVEDIR);
}

// Writes all of content, however many write(2)s it takes; what names the
// file in the error.
void write_all(int fd, const std::string& content, const std::string& what) {
    size_t done = 0;
    while (done < content.size()) {
        ssize_t n = retry_eintr([&] { return ::write(fd, content.data() + done, content.size() - done); });
        if (n < 0) throw_errno("write " + what);
        done += static_cast<size_t>(n);
    }
}

}  // namespace

std::string read_file(const std::string& path, size_t max_bytes) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) throw_errno("open " + path);
    return read_fd(fd.get(), path, max_bytes);
}

std::string read_file_at(int dirfd, const std::string& name, size_t max_bytes) {
    UniqueFd fd(::openat(dirfd, name.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd) throw_errno("open " + name);
    return read_fd(fd.get(), name, max_bytes);
}

void write_file_atomic_at(int dirfd, const std::string& name, const std::string& content, int mode) {
    std::string temp = "." + name + ".tmp";
    UniqueFd fd(::openat(dirfd, temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode));
    if (!fd) throw_errno("create " + temp);
    write_all(fd.get(), content, temp);
    fd.reset();
    if (::renameat(dirfd, temp.c_str(), dirfd, name.c_str()) != 0) throw_errno("rename " + temp + " to " + name);
}

void write_new_file_at(int dirfd, const std::string& name, const std::string& content, int mode) {
    UniqueFd fd(::openat(dirfd, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode));
    if (!fd) throw_errno("create " + name);
    write_all(fd.get(), content, name);
}

void write_file(const std::string& path, const std::string& content) {
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd) throw_errno("open " + path);
    ssize_t n = retry_eintr([&] { return ::write(fd.get(), content.data(), content.size()); });
    if (n < 0) throw_errno("write " + path);
}

void remove_tree(const std::string& path) {
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) return;
    if (!S_ISDIR(st.st_mode)) {
        ::unlink(path.c_str());
        return;
    }
    remove_tree_at(AT_FDCWD, path.c_str(), st.st_dev);
}

bool exists(const std::string& path) {
    struct stat st;
    return ::lstat(path.c_str(), &st) == 0;
}

std::string absolute_path(const std::string& path) {
    std::string joined = path;
    if (path.empty() || path[0] != '/') {
        char cwd[4096];
        if (!::getcwd(cwd, sizeof cwd)) throw_errno("getcwd");
        joined = std::string(cwd) + "/" + path;
    }
    std::vector<std::string> parts;
    size_t pos = 0;
    while (pos <= joined.size()) {
        size_t next = joined.find('/', pos);
        if (next == std::string::npos) next = joined.size();
        std::string part = joined.substr(pos, next - pos);
        if (part == "..") {
            if (!parts.empty()) parts.pop_back();
        } else if (!part.empty() && part != ".") {
            parts.push_back(part);
        }
        pos = next + 1;
    }
    std::string result;
    for (const auto& part : parts) result += "/" + part;
    return result.empty() ? "/" : result;
}

}  // namespace tether::fs
