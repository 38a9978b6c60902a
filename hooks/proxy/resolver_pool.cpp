#include "hooks/proxy/resolver_pool.hpp"

namespace tether::hooks {

// Threads start on demand (a container that never resolves a name costs no
// thread, and the daemon's start-up, which `create` waits for, makes none):
// one more whenever a job finds no idle thread, up to max_threads_.
ResolverPool::ResolverPool(EventLoop& loop, ResolveFunction resolve, unsigned threads)
    : loop_(loop), resolve_(std::move(resolve)), max_threads_(std::max(1u, threads)) {}

ResolverPool::~ResolverPool() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        jobs_.clear();
    }
    wake_.notify_all();
    for (auto& t : threads_) t.join();
}

void ResolverPool::resolve(std::string name, uint16_t port, Callback done) {
    {
        std::lock_guard lock(mutex_);
        jobs_.push_back({std::move(name), port, std::move(done)});
        if (idle_ < jobs_.size() && threads_.size() < max_threads_) threads_.emplace_back([this] { work(); });
    }
    wake_.notify_one();
}

void ResolverPool::work() {
    for (;;) {
        Job job;
        {
            std::unique_lock lock(mutex_);
            ++idle_;
            wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
            --idle_;
            if (stopping_) return;
            job = std::move(jobs_.front());
            jobs_.pop_front();
        }
        std::vector<SocketAddress> addresses = resolve_(job.name, job.port);
        // The callback checks, on the loop thread, that its connection still exists.
        loop_.post([done = std::move(job.done), addresses = std::move(addresses)]() mutable {
            done(std::move(addresses));
        });
    }
}

}  // namespace tether::hooks
