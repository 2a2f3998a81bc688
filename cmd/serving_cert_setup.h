// The --serving-cert-* flags as the options of the serving certificate manager.
#pragma once

#include "cmd/adapter_options.h"
#include "lib/servingcert/serving_certificate_manager.h"

namespace sma::cmd {

// Throws std::runtime_error naming the flag when the flags do not describe a usable setup.
servingcert::ManagerOptions serving_cert_options(const AdapterOptions& options);

}  // namespace sma::cmd
