#include "cmd/serving_cert_setup.h"

#include <stdexcept>

#include "lib/api/names.h"

namespace sma::cmd {

servingcert::ManagerOptions serving_cert_options(const AdapterOptions& o, const std::string& own_namespace) {
  servingcert::ManagerOptions options;
  std::string secret = o.serving_cert_secret;
  if (secret.find('/') == std::string::npos) {
    if (own_namespace.empty()) {
      throw std::runtime_error("--serving-cert-secret \"" + secret + "\" names no namespace and the adapter's own is "
                               "unknown (not in a pod, no namespace in the kubeconfig context): give NAMESPACE/NAME");
    }
    secret = own_namespace + "/" + secret;
  }
  try {
    options.secret = servingcert::parse_secret_name(secret);
  } catch (const std::exception& e) {
    throw std::runtime_error("invalid --serving-cert-secret \"" + o.serving_cert_secret + "\": " + e.what() +
                             " (expected NAME or NAMESPACE/NAME)");
  }
  // The Service's names as the aggregator dials them (<service>.<namespace>.svc) and as pods do.
  std::string service_namespace = options.secret.namespace_;
  std::string service = o.serving_cert_service;
  if (auto slash = service.find('/'); slash != std::string::npos) {
    service_namespace = service.substr(0, slash);
    service = service.substr(slash + 1);
  }
  if (api::check_namespace_name(service_namespace) || api::check_namespace_name(service)) {
    throw std::runtime_error("invalid --serving-cert-service \"" + o.serving_cert_service +
                             "\": expected a Service name, or NAMESPACE/NAME");
  }
  const std::string base = service + "." + service_namespace;
  options.rotation.dns_names = {base + ".svc", base + ".svc.cluster.local", base};
  for (const std::string& host : comma_list(o.serving_cert_hosts)) {
    if (api::check_object_name(host)) {
      throw std::runtime_error("invalid --serving-cert-hosts entry \"" + host + "\": expected a DNS name");
    }
    options.rotation.dns_names.push_back(host);
  }
  options.rotation.serving_validity = std::chrono::duration_cast<std::chrono::seconds>(o.serving_cert_validity);
  options.rotation.authority_validity = std::chrono::duration_cast<std::chrono::seconds>(o.serving_cert_ca_validity);
  if (options.rotation.serving_validity.count() < 1 || options.rotation.authority_validity.count() < 1) {
    throw std::runtime_error("--serving-cert-validity and --serving-cert-ca-validity must be at least 1s");
  }
  if (options.rotation.serving_validity > options.rotation.authority_validity) {
    throw std::runtime_error("--serving-cert-validity must not exceed --serving-cert-ca-validity");
  }
  options.rotation.replace_unusable = o.serving_cert_replace_unusable;
  if (o.serving_cert_check_interval.count() < 1000) {
    throw std::runtime_error("--serving-cert-check-interval must be at least 1s");
  }
  options.check_interval = o.serving_cert_check_interval;
  // Every replica checks the Secret at least this often, so three intervals let each load a new
  // pair before the authority that signed the old one leaves the bundle.
  options.rotation.retire_after = std::chrono::duration_cast<std::chrono::seconds>(3 * o.serving_cert_check_interval);
  options.apiservices = comma_list(o.ca_bundle_apiservices);
  for (const std::string& name : options.apiservices) {
    if (api::check_object_name(name)) {
      throw std::runtime_error("invalid --ca-bundle-apiservices entry \"" + name + "\"");
    }
  }
  return options;
}

}  // namespace sma::cmd
