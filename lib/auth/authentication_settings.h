// Where authentication settings come from: flags first, then the ConfigMap
// kube-system/extension-apiserver-authentication that the kube-apiserver publishes for aggregated
// API servers (same keys Kubernetes uses).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "lib/auth/authenticator.h"

namespace sma::auth {

inline constexpr const char* kAuthenticationConfigMapPath =
    "/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication";

// Flag values; an empty optional means "not given on the command line".
struct AuthenticationFlags {
  std::optional<std::string> requestheader_client_ca_file;
  std::optional<std::vector<std::string>> requestheader_allowed_names;
  std::optional<std::vector<std::string>> requestheader_username_headers;
  std::optional<std::vector<std::string>> requestheader_group_headers;
  std::optional<std::vector<std::string>> requestheader_extra_headers_prefix;
  std::optional<std::string> client_ca_file;
};

struct ResolvedAuthentication {
  RequestHeaderSettings request_header;
  std::shared_ptr<ClientCertificateVerifier> client_ca;  // null: none
  std::string description;  // what was configured from where, for the start-up log
};

// The ConfigMap's data (a ConfigMap JSON document as the API returns it). Throws
// std::runtime_error when the document is not a ConfigMap.
std::map<std::string, std::string> configmap_data(const std::string& json);

// Merges flags over the ConfigMap data (either may be absent). Throws std::runtime_error naming the
// file or ConfigMap key that cannot be used.
ResolvedAuthentication resolve_authentication(const AuthenticationFlags& flags,
                                              const std::optional<std::map<std::string, std::string>>& configmap);

}  // namespace sma::auth
