#include "lib/kube/private_pem_file.h"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace sma::kube {
namespace {

std::string temp_directory() {
  const char* dir = std::getenv("TMPDIR");
  return dir != nullptr && *dir != '\0' ? dir : "/tmp";
}

}  // namespace

PrivatePemFile::PrivatePemFile(std::string_view pem, std::string_view what) {
  std::string pattern = temp_directory() + "/sma-kube-" + std::string(what) + "-XXXXXX";
  // mkstemp creates the file exclusively with mode 0600, whatever the umask.
  const int fd = ::mkstemp(pattern.data());
  if (fd < 0) {
    throw std::runtime_error("cannot create a private file for the kubeconfig's inline " +
                             std::string(what) + " in " + temp_directory() + ": " +
                             std::strerror(errno));
  }
  std::string_view rest = pem;
  while (!rest.empty()) {
    const ssize_t written = ::write(fd, rest.data(), rest.size());
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) {
      const int error = errno;
      ::close(fd);
      ::unlink(pattern.c_str());
      throw std::runtime_error("cannot write the kubeconfig's inline " + std::string(what) +
                               " to " + pattern + ": " + std::strerror(error));
    }
    rest.remove_prefix(static_cast<std::size_t>(written));
  }
  ::close(fd);
  path_ = std::move(pattern);
}

PrivatePemFile::~PrivatePemFile() {
  if (!path_.empty()) ::unlink(path_.c_str());
}

PrivatePemFile::PrivatePemFile(PrivatePemFile&& other) noexcept : path_(std::move(other.path_)) {
  other.path_.clear();
}

}  // namespace sma::kube
