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

// Told when its thread starts and stops waiting: the worker pool starts another thread only while
// its threads wait (on a backend, a list, a call in flight), not while they compute.
class WaitObserver {
 public:
  virtual void wait_began() = 0;
  virtual void wait_ended() = 0;

 protected:
  ~WaitObserver() = default;
};

namespace detail {
inline thread_local WaitObserver* wait_observer = nullptr;
inline thread_local int wait_depth = 0;
}  // namespace detail

// Installs the calling thread's observer (null: none).
inline void observe_waits(WaitObserver* observer) { detail::wait_observer = observer; }

// Around code that may wait: check_may_wait(), then the thread's observer hears of the outermost
// such scope.
class WaitScope {
 public:
  WaitScope() {
    check_may_wait();
    if (detail::wait_depth++ == 0 && detail::wait_observer != nullptr) detail::wait_observer->wait_began();
  }
  ~WaitScope() {
    if (--detail::wait_depth == 0 && detail::wait_observer != nullptr) detail::wait_observer->wait_ended();
  }
  WaitScope(const WaitScope&) = delete;
  WaitScope& operator=(const WaitScope&) = delete;
};

}  // namespace sma::api
