// An inline PEM from a kubeconfig (certificate-authority-data, client-*-data) written to a file
// only this user can read, because OpenSSL and the fetcher take file names. The file is removed
// when the object goes away.
#pragma once

#include <string>
#include <string_view>

namespace sma::kube {

class PrivatePemFile {
 public:
  // `what` names the content in file names and errors ("ca", "client-key"). The file is created
  // in $TMPDIR (or /tmp) with mode 0600. Throws std::runtime_error when it cannot be written.
  PrivatePemFile(std::string_view pem, std::string_view what);
  ~PrivatePemFile();
  PrivatePemFile(PrivatePemFile&& other) noexcept;
  PrivatePemFile& operator=(PrivatePemFile&&) = delete;
  PrivatePemFile(const PrivatePemFile&) = delete;
  PrivatePemFile& operator=(const PrivatePemFile&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace sma::kube
