#include "lib/kube/bearer_token.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

#include "lib/kube/kube_client.h"

namespace sma::kube {
namespace {

std::string trimmed(std::string text) {
  const auto end = text.find_last_not_of(" \t\r\n");
  text.erase(end == std::string::npos ? 0 : end + 1);
  text.erase(0, text.find_first_not_of(" \t\r\n"));
  return text;
}

}  // namespace

bool BearerToken::FileStamp::operator==(const FileStamp& other) const {
  return device == other.device && inode == other.inode && size == other.size &&
         modified.tv_sec == other.modified.tv_sec && modified.tv_nsec == other.modified.tv_nsec;
}

BearerToken BearerToken::fixed(std::string token) {
  BearerToken result;
  result.token_ = trimmed(std::move(token));
  return result;
}

BearerToken BearerToken::from_file(std::string path) {
  BearerToken result;
  result.path_ = std::move(path);
  return result;
}

BearerToken::BearerToken(BearerToken&& other) noexcept
    : path_(std::move(other.path_)), token_(std::move(other.token_)), stamp_(other.stamp_) {}

std::string BearerToken::current() {
  std::lock_guard lock(mutex_);
  if (path_.empty()) return token_;

  struct stat info {};
  const bool stat_ok = ::stat(path_.c_str(), &info) == 0;  // follows the kubelet's symlinks
  const int stat_error = errno;
  if (stat_ok) {
    const FileStamp stamp{info.st_dev, info.st_ino, info.st_size, info.st_mtim};
    if (stamp_ && *stamp_ == stamp) return token_;
    std::ifstream in(path_, std::ios::binary);
    std::ostringstream contents;
    contents << in.rdbuf();
    if (in && !trimmed(contents.str()).empty()) {
      token_ = trimmed(contents.str());
      stamp_ = stamp;
      return token_;
    }
  }
  if (stamp_) return token_;  // keep the last good token through a moment of rotation
  throw KubeError(
      KubeError::Kind::Unavailable,
      "cannot read the bearer token file \"" + path_ + "\": " +
          (stat_ok ? std::string("it is empty or unreadable") : std::strerror(stat_error)));
}

}  // namespace sma::kube
