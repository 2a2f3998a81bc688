// Keeps the certificate authorities read from files (--client-ca-file,
// --requestheader-client-ca-file) current: when a file holds a new bundle it is put in force; a
// file that cannot be read or holds no certificate is rejected, and the bundle in force stays.
// Trust is decided per request (the handshake accepts any chain), so a new CA applies from the
// next request on every connection, open ones included: no connection is dropped. CAs that came
// from the extension-apiserver-authentication ConfigMap are not files and are not reloaded.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "lib/auth/client_certificate_verifier.h"

namespace sma::auth {

class CaFileReloader {
 public:
  struct Event {
    bool rejected = false;
    std::string file;
    std::string flag;    // "--client-ca-file", for the log
    std::string reason;  // why a rejected file was not used
  };

  // Watches `file`, whose bundle `verifier` was built from. Reads it now, to know what is in force.
  void watch(std::string file, std::string flag, std::shared_ptr<ClientCertificateVerifier> verifier);

  // Re-reads every file. Returns one event per file whose contents differ from the bundle in force
  // (put in force, or rejected); nothing for unchanged files. Thread-safe.
  std::vector<Event> reload();

  std::vector<std::string> files() const;

 private:
  struct Watched {
    std::string file;
    std::string flag;
    std::shared_ptr<ClientCertificateVerifier> verifier;
    std::string in_force;  // the file's text when its bundle was last put in force
  };
  mutable std::mutex mutex_;
  std::vector<Watched> watched_;  // guarded by mutex_
};

}  // namespace sma::auth
