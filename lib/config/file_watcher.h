// Calls back when a file changes (mtime, size or inode: Kubernetes swaps mounted ConfigMap and
// Secret files by renaming a symlink), checking every interval on its own thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace sma::config {

class FileWatcher {
 public:
  FileWatcher(std::string path, std::chrono::milliseconds interval, std::function<void()> on_change);
  ~FileWatcher();
  FileWatcher(const FileWatcher&) = delete;
  FileWatcher& operator=(const FileWatcher&) = delete;

 private:
  std::string fingerprint() const;
  void run();

  std::string path_;
  std::chrono::milliseconds interval_;
  std::function<void()> on_change_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace sma::config
