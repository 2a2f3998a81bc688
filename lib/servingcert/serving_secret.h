// The Secret that holds the adapter's serving certificate, as the adapter writes and reads it.
// Type kubernetes.io/tls with the keys cert-manager and Kubernetes tools use:
//   tls.crt  the serving certificate        tls.key  its private key
//   ca.crt   what clients trust: the signing authority first, then one being retired, if any
//   ca.key   the signing authority's key (only in Secrets the adapter made)
#pragma once

#include <string>
#include <string_view>

namespace sma::servingcert {

// The label the adapter puts on Secrets it made; only those it renews and rotates.
inline constexpr std::string_view kManagedByLabel = "app.kubernetes.io/managed-by";
inline constexpr std::string_view kManagedByValue = "sysdig-metrics-adapter";

struct ServingMaterial {
  std::string ca_bundle_pem;    // ca.crt
  std::string ca_key_pem;       // ca.key
  std::string certificate_pem;  // tls.crt
  std::string key_pem;          // tls.key
  bool operator==(const ServingMaterial&) const = default;
};

struct SecretName {
  std::string namespace_;
  std::string name;
  std::string text() const { return namespace_ + "/" + name; }
  // /api/v1/namespaces/<ns>/secrets/<name>; collection() leaves the name out (for a create).
  std::string path() const;
  std::string collection() const;
};

// "NAMESPACE/NAME" with both parts valid Kubernetes names; throws std::runtime_error otherwise.
SecretName parse_secret_name(std::string_view text);

struct ServingSecret {
  std::string resource_version;
  bool made_by_adapter = false;  // carries kManagedByLabel=kManagedByValue
  std::string type;              // kept on update: the API server refuses to change it
  ServingMaterial material;      // decoded; a missing key is empty. Not checked: see rotation_plan
};

// A Secret object as the API server returns it. Throws std::runtime_error naming what is wrong
// when the document is not a Secret or a data value is not base64.
ServingSecret read_serving_secret(std::string_view json);

// The Secret to create (no resource_version) or to replace (the version it was read at, so a
// concurrent writer makes the update fail with 409 rather than be overwritten). `type` empty:
// kubernetes.io/tls.
std::string write_serving_secret(const SecretName& name, const ServingMaterial& material,
                                 const std::string& resource_version = {}, const std::string& type = {});

}  // namespace sma::servingcert
