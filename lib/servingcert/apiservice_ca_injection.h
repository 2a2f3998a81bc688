// Puts the serving certificate's authority into the APIServices' spec.caBundle, so the
// kube-apiserver's aggregator verifies the adapter's certificate. A JSON merge patch, made only
// when the bundle differs or insecureSkipTLSVerify is set (which it clears).
#pragma once

#include <string>
#include <vector>

#include "lib/kube/kube_client.h"

namespace sma::servingcert {

struct InjectionOutcome {
  enum class Kind { Unchanged, Patched, NotFound, Failed };
  std::string apiservice;
  Kind kind = Kind::Failed;
  bool cleared_insecure_skip = false;  // insecureSkipTLSVerify was true and is now unset
  std::string detail;                  // why it failed, for the log
};

const char* outcome_name(InjectionOutcome::Kind kind);

// One outcome per name, in order. Never throws for a refused or failed call: that is an outcome.
std::vector<InjectionOutcome> inject_ca_bundle(kube::KubeClient& kube, const std::vector<std::string>& apiservices,
                                               const std::string& ca_bundle_pem);

}  // namespace sma::servingcert
