// A few threads that run the blocking resolver, so getaddrinfo never stalls
// the event loop. Results are delivered on the loop thread via EventLoop::post.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "hooks/net/event_loop.hpp"
#include "hooks/proxy/proxy_config.hpp"

namespace tether::hooks {

class ResolverPool {
public:
    using Callback = std::function<void(std::vector<SocketAddress>)>;
    ResolverPool(EventLoop& loop, ResolveFunction resolve, unsigned threads);
    ~ResolverPool();  // stops the threads; pending callbacks are dropped
    ResolverPool(const ResolverPool&) = delete;
    ResolverPool& operator=(const ResolverPool&) = delete;

    // Resolves on a pool thread, then runs done(addresses) on the loop thread.
    void resolve(std::string name, uint16_t port, Callback done);

private:
    struct Job {
        std::string name;
        uint16_t port;
        Callback done;
    };
    void work();

    EventLoop& loop_;
    ResolveFunction resolve_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Job> jobs_;
    bool stopping_ = false;
    unsigned max_threads_;
    size_t idle_ = 0;  // threads waiting for a job
    std::vector<std::thread> threads_;  // started on demand, guarded by mutex_
};

}  // namespace tether::hooks
