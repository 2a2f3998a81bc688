// The certificate the server serves, and its replacement when the files holding it change
// (cert-manager renewals, Kubernetes Secret updates) without a restart.
#pragma once

#include <sys/types.h>

#include <boost/asio/ssl/context.hpp>
#include <ctime>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "lib/server/tls_context.h"

namespace sma::server {

// What stat() says of a file; a change means the file may hold something new. Following
// symlinks, so the Secret volume's "..data" swap shows as a new inode.
struct FileStamp {
  int error = 0;  // errno of a failed stat(); the rest is zero then
  dev_t device = 0;
  ino_t inode = 0;
  off_t size = 0;
  std::time_t modified_seconds = 0;
  long modified_nanoseconds = 0;
  bool operator==(const FileStamp&) const = default;
};

FileStamp stamp_of(const std::string& path);

// Thread-safe. Each accepted connection takes the context in force and keeps it, by shared_ptr,
// for as long as it lives; a reload only changes what later connections get.
class ServingCertificate {
 public:
  using EventCallback = std::function<void(const std::string&)>;
  // The certificate PEM put in force and its source: "file", "self-signed" or "installed".
  using InForceCallback = std::function<void(const std::string&, const std::string&)>;

  // Loads the pair from the files, or generates a self-signed one when both are empty. Throws
  // std::runtime_error with a one-line reason (as make_server_tls_context).
  ServingCertificate(std::string cert_file, std::string key_file, EventCallback on_event,
                     InForceCallback on_in_force = {});
  ServingCertificate(const ServingCertificate&) = delete;
  ServingCertificate& operator=(const ServingCertificate&) = delete;

  // The context for a connection accepted now. Never null.
  std::shared_ptr<boost::asio::ssl::context> current() const;
  // False in self-signed mode, which never reloads.
  bool reloadable() const { return !cert_file_.empty(); }

  // Reloads when either file's stamp differs from the last look; see reload().
  bool reload_if_changed();
  // Reads both files now. A pair that differs from the one in force and loads is put in force
  // (true) and reported; one that does not load is rejected and reported, the pair in force
  // stays (false). False without a report when the files hold the pair in force already, and
  // when called from the event callback. Events are reported one at a time; the callback's
  // exceptions are ignored.
  bool reload();

  // Puts a pair held in memory in force (a certificate kept in a Kubernetes Secret), for
  // connections accepted from now on. True when it differs from the pair in force and loads;
  // false when it is the pair in force already. A pair that does not load throws
  // std::runtime_error and the pair in force stays. Reported like a reload.
  bool install(const std::string& certificate_pem, const std::string& key_pem, const std::string& source);
  // The certificate (chain) PEM in force.
  std::string certificate_pem() const;

 private:
  struct Stamps {
    FileStamp certificate;
    FileStamp key;
    bool operator==(const Stamps&) const = default;
  };
  Stamps stamps() const;
  bool reload_locked();  // the caller holds reload_mutex_
  // Swaps `context` in, records `identity` as in force and reports both; the caller holds reload_mutex_.
  void put_in_force(ServingIdentity identity, std::shared_ptr<boost::asio::ssl::context> context,
                    const std::string& source, const std::string& event);
  void report(const std::string& event) const;
  void report_in_force(const std::string& source) const;  // the caller holds reload_mutex_
  // Runs a callback with `reporting` set, so it cannot reload; its exceptions are ignored.
  template <typename Call>
  void reporting_call(const Call& call) const;

  const std::string cert_file_;
  const std::string key_file_;
  const EventCallback on_event_;
  const InForceCallback on_in_force_;

  // Serialises reloads and the events they report. Reading and building a new context happen
  // under this one only, so accepting connections never waits for them.
  mutable std::mutex reload_mutex_;
  Stamps last_seen_;          // guarded by reload_mutex_; taken before the files were last read
  ServingIdentity in_force_;  // guarded by reload_mutex_; the pair current_ serves

  // Held only to copy or swap current_.
  mutable std::mutex current_mutex_;
  std::shared_ptr<boost::asio::ssl::context> current_;  // guarded by current_mutex_
};

}  // namespace sma::server
