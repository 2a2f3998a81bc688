// A thread that must not wait: the HTTPS server's I/O thread tries to answer a request from what
// is in memory (cached reviews, cached backend answers, the pod cache) before handing it to a
// worker. Code that would wait (a network call, a coalesced call in flight, a first list, a batch
// window) calls check_may_wait(), which throws WouldBlock on such a thread; the request then goes
// to a worker thread and runs again from the start, where waiting is allowed. WouldBlock is not a
// std::exception, so the handlers' catch-alls that turn failures into Status answers let it pass.
#pragma once

namespace sma::api {

struct WouldBlock {};

namespace detail {
inline thread_local int no_wait_depth = 0;
}  // namespace detail

// While one lives, this thread may not wait.
class NoWaitScope {
 public:
  NoWaitScope() { ++detail::no_wait_depth; }
  ~NoWaitScope() { --detail::no_wait_depth; }
  NoWaitScope(const NoWaitScope&) = delete;
  NoWaitScope& operator=(const NoWaitScope&) = delete;
};

inline bool may_wait() { return detail::no_wait_depth == 0; }

// Before anything that may wait: throws WouldBlock on a thread that may not.
inline void check_may_wait() {
  if (!may_wait()) throw WouldBlock{};
}

}  // namespace sma::api
