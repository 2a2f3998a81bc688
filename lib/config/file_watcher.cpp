#include "lib/config/file_watcher.h"

#include <sys/stat.h>

namespace sma::config {

FileWatcher::FileWatcher(std::string path, std::chrono::milliseconds interval, std::function<void()> on_change)
    : path_(std::move(path)), interval_(interval), on_change_(std::move(on_change)) {
  thread_ = std::thread([this] { run(); });
}

FileWatcher::~FileWatcher() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

std::string FileWatcher::fingerprint() const {
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0) return "missing";
  return std::to_string(st.st_ino) + ":" + std::to_string(st.st_size) + ":" + std::to_string(st.st_mtim.tv_sec) +
         "." + std::to_string(st.st_mtim.tv_nsec);
}

void FileWatcher::run() {
  std::string last = fingerprint();
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, interval_, [this] { return stopping_; })) {
    std::string now = fingerprint();
    if (now == last) continue;
    last = now;
    lock.unlock();
    on_change_();
    lock.lock();
  }
}

}  // namespace sma::config
