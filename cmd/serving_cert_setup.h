// The --serving-cert-* flags as the options of the serving certificate manager.
#pragma once

#include "cmd/adapter_options.h"
#include "lib/servingcert/serving_certificate_manager.h"

namespace sma::cmd {

// Throws std::runtime_error naming the flag when the flags do not describe a usable setup.
// `own_namespace` completes a --serving-cert-secret given as NAME (empty: NAMESPACE/NAME needed).
servingcert::ManagerOptions serving_cert_options(const AdapterOptions& options, const std::string& own_namespace);

}  // namespace sma::cmd
