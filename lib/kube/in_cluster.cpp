// in_cluster_connection: how a pod reaches its own API server, as client-go's InClusterConfig
// does it: the kubernetes Service address from the environment the kubelet sets, and the
// service-account token and CA the kubelet mounts.
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "lib/kube/kube_client.h"

namespace sma::kube {
namespace {

constexpr const char* kServiceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount";

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? value : "";
}

}  // namespace

std::optional<KubeConnection> in_cluster_connection() {
  const std::string host = env("KUBERNETES_SERVICE_HOST");
  const std::string port = env("KUBERNETES_SERVICE_PORT");
  if (host.empty() || port.empty()) return std::nullopt;
  if (!std::all_of(port.begin(), port.end(), [](unsigned char c) { return std::isdigit(c); })) {
    throw std::runtime_error("in-cluster: KUBERNETES_SERVICE_PORT \"" + port +
                             "\" is not a port number");
  }

  // SMA_SERVICEACCOUNT_DIR replaces the kubelet's mount point; tests use it to point at their own
  // token and CA files.
  std::string directory = env("SMA_SERVICEACCOUNT_DIR");
  if (directory.empty()) directory = kServiceAccountDir;

  KubeConnection connection;
  // cpprestsdk cannot resolve a bracketed IPv6 literal, so in an IPv6 cluster the API server is
  // reached by the DNS name every cluster gives it; its serving certificate carries that name too.
  const bool ipv6 = host.find(':') != std::string::npos;
  connection.server = "https://" + (ipv6 ? std::string("kubernetes.default.svc") : host) + ":" + port;
  connection.token_file = directory + "/token";
  connection.source = "in-cluster (" + connection.server + ")";

  std::ifstream token(connection.token_file);
  if (!token) {
    throw std::runtime_error("in-cluster: cannot read the service-account token \"" +
                             connection.token_file + "\": " + std::strerror(errno) +
                             " (is automountServiceAccountToken off for this pod?)");
  }
  // The pod's namespace, as client-go reads it; absent in old clusters.
  if (std::ifstream namespace_file(directory + "/namespace"); namespace_file) {
    std::getline(namespace_file, connection.own_namespace);
    while (!connection.own_namespace.empty() && std::isspace(static_cast<unsigned char>(connection.own_namespace.back()))) {
      connection.own_namespace.pop_back();
    }
  }
  // Like client-go, a missing CA file leaves the system trust store in charge rather than failing.
  const std::string ca_file = directory + "/ca.crt";
  if (std::ifstream(ca_file)) connection.ca_file = ca_file;
  return connection;
}

}  // namespace sma::kube
