#include "lib/server/serving_certificate.h"

#include <sys/stat.h>

#include <cerrno>
#include <exception>
#include <stdexcept>
#include <utility>

namespace sma::server {
namespace {

// Set while this thread runs the event callback, which must not reload (it holds reload_mutex_).
thread_local bool reporting = false;

}  // namespace

FileStamp stamp_of(const std::string& path) {
  FileStamp stamp;
  struct stat status {};
  if (::stat(path.c_str(), &status) != 0) {
    stamp.error = errno != 0 ? errno : -1;
    return stamp;
  }
  stamp.device = status.st_dev;
  stamp.inode = status.st_ino;
  stamp.size = status.st_size;
  stamp.modified_seconds = status.st_mtim.tv_sec;
  stamp.modified_nanoseconds = status.st_mtim.tv_nsec;
  return stamp;
}

ServingCertificate::ServingCertificate(std::string cert_file, std::string key_file,
                                       EventCallback on_event, InForceCallback on_in_force)
    : cert_file_(std::move(cert_file)),
      key_file_(std::move(key_file)),
      on_event_(std::move(on_event)),
      on_in_force_(std::move(on_in_force)) {
  // Stamps before reading: a change made while reading shows as a change at the next look.
  if (reloadable()) last_seen_ = stamps();
  in_force_ = load_serving_identity(cert_file_, key_file_);
  current_ = make_server_tls_context(in_force_);
  std::lock_guard lock(reload_mutex_);
  report_in_force(reloadable() ? "file" : "self-signed");
}

std::shared_ptr<boost::asio::ssl::context> ServingCertificate::current() const {
  std::lock_guard lock(current_mutex_);
  return current_;
}

bool ServingCertificate::reload_if_changed() {
  if (!reloadable() || reporting) return false;
  std::lock_guard lock(reload_mutex_);
  if (stamps() == last_seen_) return false;
  return reload_locked();
}

bool ServingCertificate::reload() {
  if (!reloadable() || reporting) return false;
  std::lock_guard lock(reload_mutex_);
  return reload_locked();
}

ServingCertificate::Stamps ServingCertificate::stamps() const {
  return {stamp_of(cert_file_), stamp_of(key_file_)};
}

bool ServingCertificate::reload_locked() {
  // A pair rejected now is not retried until a file changes again, so a broken Secret is reported
  // once rather than at every look. Files updated one after the other (certificate first, key a
  // moment later) are rejected as mismatched at first, then loaded once the second one lands.
  last_seen_ = stamps();
  std::shared_ptr<boost::asio::ssl::context> replacement;
  ServingIdentity identity;
  try {
    identity = load_serving_identity(cert_file_, key_file_);
    if (identity.same_pair_as(in_force_)) return false;  // touched, or rewritten unchanged
    replacement = make_server_tls_context(identity);
  } catch (const std::exception& e) {
    report("serving certificate from " + cert_file_ +
           " rejected, the previous one stays in force: " + e.what());
    return false;
  }
  put_in_force(std::move(identity), std::move(replacement), "file", "serving certificate reloaded from " + cert_file_);
  return true;
}

void ServingCertificate::put_in_force(ServingIdentity identity, std::shared_ptr<boost::asio::ssl::context> context,
                                      const std::string& source, const std::string& event) {
  {
    // The previous context lives on in the connections that hold it; freed with the last one.
    std::lock_guard lock(current_mutex_);
    current_.swap(context);
  }
  in_force_ = std::move(identity);
  report_in_force(source);
  report(event);
}

bool ServingCertificate::install(const std::string& certificate_pem, const std::string& key_pem,
                                 const std::string& source) {
  if (reporting) return false;
  ServingIdentity identity{certificate_pem, key_pem, "certificate from " + source, "key from " + source};
  std::lock_guard lock(reload_mutex_);
  if (identity.same_pair_as(in_force_)) return false;
  std::shared_ptr<boost::asio::ssl::context> replacement = make_server_tls_context(identity);
  put_in_force(std::move(identity), std::move(replacement), "installed", "serving certificate loaded from " + source);
  return true;
}

std::string ServingCertificate::certificate_pem() const {
  std::lock_guard lock(reload_mutex_);
  return in_force_.certificate_pem;
}

template <typename Call>
void ServingCertificate::reporting_call(const Call& call) const {
  reporting = true;
  try {
    call();
  } catch (...) {
    // A failing logger must not stop the certificate from being served or reloaded.
  }
  reporting = false;
}

void ServingCertificate::report_in_force(const std::string& source) const {
  if (on_in_force_) reporting_call([&] { on_in_force_(in_force_.certificate_pem, source); });
}

void ServingCertificate::report(const std::string& event) const {
  if (on_event_) reporting_call([&] { on_event_(event); });
}

}  // namespace sma::server
