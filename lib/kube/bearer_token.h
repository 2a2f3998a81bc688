// The bearer token sent to the API server: none, a fixed string, or a file that is read again
// whenever it changes, because the kubelet rotates projected service-account tokens (hourly by
// default) by swapping the file under the mounted directory.
#pragma once

#include <sys/types.h>

#include <ctime>
#include <mutex>
#include <optional>
#include <string>

namespace sma::kube {

class BearerToken {
 public:
  BearerToken() = default;  // no token
  static BearerToken fixed(std::string token);
  static BearerToken from_file(std::string path);

  BearerToken(BearerToken&& other) noexcept;
  BearerToken& operator=(BearerToken&&) = delete;

  // Thread-safe. Empty when there is no token. A token file is re-read when its identity, size or
  // modification time differs from the last read; if it cannot be read then, the last token read
  // is kept. Throws KubeError(Unavailable) when the file has never been readable.
  std::string current();

 private:
  struct FileStamp {
    dev_t device = 0;
    ino_t inode = 0;
    off_t size = 0;
    timespec modified{};
    bool operator==(const FileStamp& other) const;
  };

  std::string path_;
  std::string token_;
  std::optional<FileStamp> stamp_;
  std::mutex mutex_;
};

}  // namespace sma::kube
