#include "cmd/heap_retention.h"

#include <malloc.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>

namespace sma::cmd {

void limit_heap_retention() {
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  if (tunables != nullptr && std::string_view(tunables).find("glibc.malloc.") != std::string_view::npos) return;
  // Each thread would otherwise get an arena of its own (up to 8 per core), each keeping its freed
  // memory; two are enough for a handful of workers.
  mallopt(M_ARENA_MAX, 2);
  // A fixed threshold (glibc would raise its own after every large free). Big answers (megabytes)
  // come from the heap, so a stream of them reuses pages instead of faulting fresh ones in; the
  // trimmer below gives them back once the stream ends. Beyond it, mapped and unmapped each time.
  mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
  mallopt(M_TRIM_THRESHOLD, 128 * 1024);
}

namespace {

// Trims on a thread of its own, so the answer that asked for it goes out without waiting, and only
// once big answers stopped for kQuietBeforeTrim: under a stream of them the freed pages are reused
// (each fresh page costs a fault, a third of a 10,000-pod answer's time), and the memory goes back
// once the stream ends.
constexpr std::chrono::milliseconds kQuietBeforeTrim{1000};

class HeapTrimmer {
 public:
  void request() {
    {
      std::lock_guard lock(mutex_);
      due_ = std::chrono::steady_clock::now() + kQuietBeforeTrim;
      if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
    }
    wake_.notify_one();
  }

 private:
  void run() {
    std::unique_lock lock(mutex_);
    while (true) {
      wake_.wait(lock, [this] { return due_.has_value(); });
      // Each new request moves the due time; trim once it stays in the past.
      while (due_ && std::chrono::steady_clock::now() < *due_) wake_.wait_until(lock, *due_);
      due_.reset();
      lock.unlock();
      malloc_trim(0);
      lock.lock();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::optional<std::chrono::steady_clock::time_point> due_;
  std::thread thread_;  // runs until the process exits
};

}  // namespace

void after_answer(std::size_t body_bytes) {
  // Walking the arenas costs about a millisecond: only after answers of that size.
  constexpr std::size_t kBigAnswer = 1024 * 1024;
  if (body_bytes < kBigAnswer) return;
  static auto* trimmer = new HeapTrimmer();  // never destroyed: its thread may be trimming at exit
  trimmer->request();
}

}  // namespace sma::cmd
