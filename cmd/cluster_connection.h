// The one Kubernetes API client of the process (pods for pods/*, reviews and the authentication
// ConfigMap): from --kubeconfig, else the in-cluster service account, else none.
#pragma once

#include <memory>

#include "cmd/adapter_options.h"
#include "lib/kube/kube_client.h"

namespace sma::cmd {

// Throws std::runtime_error when the configured source cannot be used.
std::unique_ptr<kube::KubeClient> connect_kubernetes(const AdapterOptions& options);

}  // namespace sma::cmd
