#include "cmd/access_setup.h"

#include <chrono>
#include <stdexcept>

#include "lib/auth/authentication_settings.h"
#include "lib/telemetry/log.h"

namespace sma::cmd {
namespace {

auth::AuthenticationFlags authentication_flags(const AdapterOptions& o) {
  auth::AuthenticationFlags f;
  auto text = [](const std::string& v) { return v.empty() ? std::nullopt : std::optional<std::string>(v); };
  auto list = [](const std::string& v) {
    return v.empty() ? std::nullopt : std::optional<std::vector<std::string>>(comma_list(v));
  };
  f.requestheader_client_ca_file = text(o.requestheader_client_ca_file);
  f.requestheader_allowed_names = list(o.requestheader_allowed_names);
  f.requestheader_username_headers = list(o.requestheader_username_headers);
  f.requestheader_group_headers = list(o.requestheader_group_headers);
  f.requestheader_extra_headers_prefix = list(o.requestheader_extra_headers_prefix);
  f.client_ca_file = text(o.client_ca_file);
  return f;
}

}  // namespace

AccessSetup::AccessSetup(const AdapterOptions& options, kube::KubeClient* kube) {
  auto flags = authentication_flags(options);
  bool ca_flags = flags.requestheader_client_ca_file || flags.client_ca_file;
  if (kube == nullptr) {
    throw std::runtime_error(ca_flags ? "authorization needs the Kubernetes API for SubjectAccessReview: run in a "
                                        "cluster or pass --kubeconfig"
                                      : "no authentication is configured: run in a cluster or pass --kubeconfig "
                                        "(or --insecure-allow-anonymous for development and tests only)");
  }

  std::optional<std::map<std::string, std::string>> configmap;
  try {
    configmap = auth::configmap_data(kube->get_json(auth::kAuthenticationConfigMapPath));
  } catch (const std::exception& e) {
    if (!ca_flags) {
      throw std::runtime_error(std::string("cannot read kube-system/extension-apiserver-authentication (") + e.what() +
                               "); grant the extension-apiserver-authentication-reader role or pass "
                               "--requestheader-client-ca-file");
    }
    telemetry::log_warning("authentication ConfigMap unreadable; using the CA flags alone", {{"error", e.what()}});
  }
  auto resolved = auth::resolve_authentication(flags, configmap);
  if (!resolved.request_header.front_proxy_ca) {
    // Without the aggregation layer the aggregator presents no front-proxy certificate, so every
    // request it forwards is 401 and the APIServices stay Available=False (FailedDiscoveryCheck).
    telemetry::log_error("no front-proxy CA: kube-system/extension-apiserver-authentication has no "
                         "requestheader-client-ca-file, so the kube-apiserver's aggregation layer is off and its "
                         "requests will be refused (401); configure the kube-apiserver's --requestheader-* and "
                         "--proxy-client-* flags (docs/install.md), or pass --requestheader-client-ca-file");
  }
  // Flags win over the ConfigMap, so a CA given by a flag is the one in force: watch its file.
  if (flags.requestheader_client_ca_file) {
    ca_files_.watch(*flags.requestheader_client_ca_file, "--requestheader-client-ca-file",
                    resolved.request_header.front_proxy_ca);
  }
  if (flags.client_ca_file) ca_files_.watch(*flags.client_ca_file, "--client-ca-file", resolved.client_ca);

  auto post = [kube](const std::string& path, const std::string& body) { return kube->post_json(path, body); };
  tokens_ = std::make_unique<auth::TokenReviewer>(post, options.token_cache_ttl);
  reviewer_ = std::make_unique<auth::AccessReviewer>(post, options.authorization_cache_ttl);
  authenticator_ = std::make_unique<auth::Authenticator>(std::move(resolved.request_header),
                                                          std::move(resolved.client_ca), tokens_.get());
  gate_ = std::make_unique<apiserver::AccessControl>(*authenticator_, *reviewer_, comma_list(options.always_allow_paths));
  description_ = resolved.description + "; bearer tokens by TokenReview; authorization by SubjectAccessReview";
  // Polled like the rules file: mounted Secrets and ConfigMaps change by a symlink swap, which
  // inotify on the file itself would miss.
  for (const auto& file : ca_files_.files()) {
    ca_watchers_.push_back(std::make_unique<config::FileWatcher>(
        file, std::chrono::seconds(2), [this] { reload_certificate_authorities("file change"); }));
  }
}

void AccessSetup::reload_certificate_authorities(const char* trigger) {
  for (const auto& event : ca_files_.reload()) {
    if (event.rejected) {
      telemetry::log_error("CA reload rejected; the CA in force stays",
                           {{"flag", event.flag}, {"file", event.file}, {"trigger", trigger}, {"error", event.reason}});
    } else {
      telemetry::log_info("CA reloaded", {{"flag", event.flag}, {"file", event.file}, {"trigger", trigger}});
    }
  }
}

AccessSetup::~AccessSetup() = default;

}  // namespace sma::cmd
