#include "lib/config/secret_token.h"

#include <sys/stat.h>

#include <fstream>
#include <sstream>

namespace sma::config {

SecretToken SecretToken::literal(std::string token) {
  SecretToken t;
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' ')) token.pop_back();
  t.literal_ = std::move(token);
  return t;
}

SecretToken SecretToken::from_file(std::string path) {
  SecretToken t;
  t.path_ = std::move(path);
  return t;
}

SecretToken::SecretToken(const SecretToken& other) { *this = other; }

SecretToken& SecretToken::operator=(const SecretToken& other) {
  if (this == &other) return *this;
  std::scoped_lock lock(mutex_, other.mutex_);
  literal_ = other.literal_;
  path_ = other.path_;
  cached_ = other.cached_;
  cached_mtime_ = other.cached_mtime_;
  cached_size_ = other.cached_size_;
  return *this;
}

std::string SecretToken::value() const {
  if (path_.empty()) return literal_;
  std::lock_guard lock(mutex_);
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0) throw std::runtime_error("cannot read the token file " + path_);
  // Kubernetes swaps Secret files atomically, so a changed mtime or size means a new token.
  bool changed = st.st_mtim.tv_sec != cached_mtime_.tv_sec || st.st_mtim.tv_nsec != cached_mtime_.tv_nsec ||
                 st.st_size != cached_size_;
  if (changed || cached_.empty()) {
    std::ifstream in(path_);
    if (!in) throw std::runtime_error("cannot read the token file " + path_);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string token = ss.str();
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' ')) token.pop_back();
    if (token.empty()) throw std::runtime_error("the token file " + path_ + " is empty");
    cached_ = std::move(token);
    cached_mtime_ = st.st_mtim;
    cached_size_ = st.st_size;
  }
  return cached_;
}

std::string SecretToken::masked() const {
  if (!path_.empty()) return "**** (from " + path_ + ")";
  return literal_.empty() ? "(none)" : "****";
}

}  // namespace sma::config
