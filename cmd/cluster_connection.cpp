#include "cmd/cluster_connection.h"

namespace sma::cmd {

std::unique_ptr<kube::KubeClient> connect_kubernetes(const AdapterOptions& options) {
  std::optional<kube::KubeConnection> connection;
  if (!options.kubeconfig.empty()) {
    connection = kube::load_kubeconfig(options.kubeconfig);
  } else {
    connection = kube::in_cluster_connection();
  }
  if (!connection) return nullptr;
  kube::KubeClientOptions client_options;
  client_options.timeout = options.backend_timeout;
  return std::make_unique<kube::KubeClient>(*connection, client_options);
}

}  // namespace sma::cmd
