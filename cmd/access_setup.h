// Builds the access gate (authentication + SubjectAccessReview) from flags, the kube-system
// ConfigMap and the Kubernetes API client, or says in one line why serving would be unsafe.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cmd/adapter_options.h"
#include "lib/apiserver/access_control.h"
#include "lib/auth/ca_file_reloader.h"
#include "lib/config/file_watcher.h"
#include "lib/kube/kube_client.h"

namespace sma::cmd {

class AccessSetup {
 public:
  // kube may be null; it must outlive the setup. Throws std::runtime_error with a one-line reason
  // when no safe configuration can be built.
  AccessSetup(const AdapterOptions& options, kube::KubeClient* kube);
  ~AccessSetup();

  const apiserver::AccessControl& gate() const { return *gate_; }
  const std::string& description() const { return description_; }

  // Re-reads the CA files given by flags and logs what changed (a rejected file keeps the CA in
  // force). Called on SIGHUP; a file change triggers it on its own.
  void reload_certificate_authorities(const char* trigger);

 private:
  std::unique_ptr<auth::TokenReviewer> tokens_;
  std::unique_ptr<auth::AccessReviewer> reviewer_;
  std::unique_ptr<auth::Authenticator> authenticator_;
  std::unique_ptr<apiserver::AccessControl> gate_;
  std::string description_;
  auth::CaFileReloader ca_files_;
  std::vector<std::unique_ptr<config::FileWatcher>> ca_watchers_;  // last: stopped first
};

}  // namespace sma::cmd
