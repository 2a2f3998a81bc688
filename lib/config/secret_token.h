// A bearer token from a literal (SDC_TOKEN) or a file mounted from a Secret, re-read when the file
// changes so a rotated token is used without a restart. The token is never printed: masked() is
// what logs and `explain` show.
#pragma once

#include <ctime>
#include <mutex>
#include <stdexcept>
#include <string>

namespace sma::config {

class SecretToken {
 public:
  SecretToken() = default;
  static SecretToken literal(std::string token);
  static SecretToken from_file(std::string path);

  bool configured() const { return !literal_.empty() || !path_.empty(); }
  // The current token (trailing newlines trimmed). Throws std::runtime_error naming the file (never
  // the content) when it cannot be read or is empty.
  std::string value() const;
  // "****" plus where the token comes from: "**** (from /var/run/secrets/sysdig/token)".
  std::string masked() const;

  SecretToken(const SecretToken& other);
  SecretToken& operator=(const SecretToken& other);

 private:
  std::string literal_;
  std::string path_;
  mutable std::mutex mutex_;
  mutable std::string cached_;
  mutable std::timespec cached_mtime_{};
  mutable long long cached_size_ = -1;
};

}  // namespace sma::config
