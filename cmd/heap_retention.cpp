#include "cmd/heap_retention.h"

#include <malloc.h>

#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <string_view>
#include <thread>

namespace sma::cmd {

void limit_heap_retention() {
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  if (tunables != nullptr && std::string_view(tunables).find("glibc.malloc.") != std::string_view::npos) return;
  // Each thread would otherwise get an arena of its own (up to 8 per core), each keeping its freed
  // memory; two are enough for a handful of workers.
  mallopt(M_ARENA_MAX, 2);
  // A fixed threshold: glibc raises the default one after every large free, so that later large
  // buffers come from the heap and stay there. Mapped buffers go back to the system when freed.
  mallopt(M_MMAP_THRESHOLD, 128 * 1024);
  mallopt(M_TRIM_THRESHOLD, 128 * 1024);
}

namespace {

// Trims on a thread of its own, so the answer that asked for it goes out without waiting.
class HeapTrimmer {
 public:
  void request() {
    {
      std::lock_guard lock(mutex_);
      requested_ = true;
      if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
    }
    wake_.notify_one();
  }

 private:
  void run() {
    std::unique_lock lock(mutex_);
    while (true) {
      wake_.wait(lock, [this] { return requested_; });
      requested_ = false;
      lock.unlock();
      malloc_trim(0);
      lock.lock();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  bool requested_ = false;
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
