#include "runtime/cgroups/oom_events.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "runtime/cgroups/cgroup_fs.hpp"
#include "runtime/core/error.hpp"

namespace tether::cgroups {

namespace {

void wait_readable(int fd, const char* what) {
    pollfd pfd{fd, POLLIN, 0};
    if (retry_eintr([&] { return ::poll(&pfd, 1, -1); }) < 0) throw Error(std::string("cgroups: poll ") + what, errno);
}

class V1OomEvents : public OomEventSource {
public:
    explicit V1OomEvents(const std::string& memory_dir) {
        const std::string control = join_path(memory_dir, "memory.oom_control");
        oom_control_ = UniqueFd(::open(control.c_str(), O_RDONLY | O_CLOEXEC));
        if (!oom_control_) throw Error("cgroups: open " + control, errno);
        event_ = UniqueFd(::eventfd(0, EFD_CLOEXEC));
        if (!event_) throw Error("cgroups: eventfd for " + control, errno);
        // "<eventfd> <fd of memory.oom_control>" registers the notification.
        write_file(memory_dir, "cgroup.event_control",
                   std::to_string(event_.get()) + " " + std::to_string(oom_control_.get()));
    }
    int fd() const override { return event_.get(); }
    uint64_t wait_for_oom() override {
        wait_readable(event_.get(), "OOM eventfd");
        uint64_t count = 0;
        if (retry_eintr([&] { return ::read(event_.get(), &count, sizeof count); }) != sizeof count)
            throw Error("cgroups: read OOM eventfd", errno);
        return count;
    }

private:
    UniqueFd oom_control_;
    UniqueFd event_;
};

class V2OomEvents : public OomEventSource {
public:
    explicit V2OomEvents(const std::string& dir) : dir_(dir) {
        inotify_ = UniqueFd(::inotify_init1(IN_CLOEXEC));
        if (!inotify_) throw Error("cgroups: inotify_init1", errno);
        const std::string events = join_path(dir, "memory.events");
        if (::inotify_add_watch(inotify_.get(), events.c_str(), IN_MODIFY) < 0)
            throw Error("cgroups: inotify_add_watch " + events, errno);
        last_ = oom_kills();
    }
    int fd() const override { return inotify_.get(); }
    uint64_t wait_for_oom() override {
        wait_readable(inotify_.get(), "inotify on memory.events");
        char buffer[4096];
        if (retry_eintr([&] { return ::read(inotify_.get(), buffer, sizeof buffer); }) < 0)
            throw Error("cgroups: read inotify", errno);
        const uint64_t now = oom_kills();
        const uint64_t happened = now > last_ ? now - last_ : 0;
        last_ = now;
        return happened;
    }

private:
    uint64_t oom_kills() const {
        auto values = read_key_values(dir_, "memory.events");
        auto it = values.find("oom_kill");
        return it == values.end() ? 0 : it->second;
    }
    std::string dir_;
    UniqueFd inotify_;
    uint64_t last_ = 0;
};

}  // namespace

std::unique_ptr<OomEventSource> open_v1_oom_events(const std::string& memory_dir) {
    return std::make_unique<V1OomEvents>(memory_dir);
}

std::unique_ptr<OomEventSource> open_v2_oom_events(const std::string& cgroup_dir) {
    return std::make_unique<V2OomEvents>(cgroup_dir);
}

}  // namespace tether::cgroups
