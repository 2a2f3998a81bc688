// What the --serving-cert-* flags become: the Secret's full name, the certificate's DNS names, and
// refusals that name the flag.
#include "cmd/serving_cert_setup.h"

#include <catch2/catch.hpp>
#include <stdexcept>

namespace sma::cmd {

TEST_CASE("a Secret name alone lives in the adapter's namespace; the Service's names go into the certificate",
          "[cmd]") {
  AdapterOptions o;
  o.serving_cert_secret = "sysdig-metrics-adapter-serving-cert";
  o.serving_cert_hosts = "metrics.example.com, ,adapter.internal";
  servingcert::ManagerOptions options = serving_cert_options(o, "monitoring");
  CHECK(options.secret.text() == "monitoring/sysdig-metrics-adapter-serving-cert");
  CHECK(options.rotation.dns_names ==
        std::vector<std::string>{"sysdig-metrics-adapter.monitoring.svc", "sysdig-metrics-adapter.monitoring.svc.cluster.local",
                                 "sysdig-metrics-adapter.monitoring", "metrics.example.com", "adapter.internal"});
  CHECK(options.apiservices == std::vector<std::string>{"v1beta1.custom.metrics.k8s.io", "v1beta2.custom.metrics.k8s.io",
                                                        "v1beta1.external.metrics.k8s.io"});
  CHECK(options.rotation.serving_validity == std::chrono::hours(24 * 365));
  CHECK(options.rotation.authority_validity == std::chrono::hours(24 * 3650));
  CHECK(options.check_interval == std::chrono::minutes(1));
  CHECK(options.rotation.retire_after == std::chrono::minutes(3));
  CHECK_FALSE(options.rotation.replace_unusable);
}

TEST_CASE("NAMESPACE/NAME and a Service in another namespace", "[cmd]") {
  AdapterOptions o;
  o.serving_cert_secret = "certs/adapter";
  o.serving_cert_service = "metrics/front";
  o.ca_bundle_apiservices = "";
  servingcert::ManagerOptions options = serving_cert_options(o, "");
  CHECK(options.secret.text() == "certs/adapter");
  CHECK(options.rotation.dns_names.front() == "front.metrics.svc");
  CHECK(options.apiservices.empty());
}

TEST_CASE("flags that cannot work are refused, naming the flag", "[cmd]") {
  AdapterOptions o;
  o.serving_cert_secret = "adapter";
  CHECK_THROWS_WITH(serving_cert_options(o, ""), Catch::Contains("names no namespace"));
  o.serving_cert_secret = "Bad/x";
  CHECK_THROWS_WITH(serving_cert_options(o, ""), Catch::Contains("invalid --serving-cert-secret"));
  o.serving_cert_secret = "ns/x";
  o.serving_cert_service = "bad_service";
  CHECK_THROWS_WITH(serving_cert_options(o, ""), Catch::Contains("--serving-cert-service"));
  o.serving_cert_service = "svc";
  o.serving_cert_hosts = "bad host";
  CHECK_THROWS_WITH(serving_cert_options(o, ""), Catch::Contains("--serving-cert-hosts"));
  o.serving_cert_hosts = "";
  o.serving_cert_validity = std::chrono::hours(24 * 4000);
  CHECK_THROWS_WITH(serving_cert_options(o, ""), Catch::Contains("must not exceed"));
  o.serving_cert_validity = std::chrono::hours(1);
  o.serving_cert_check_interval = std::chrono::milliseconds(10);
  CHECK_THROWS_WITH(serving_cert_options(o, ""), Catch::Contains("--serving-cert-check-interval"));
}

}  // namespace sma::cmd
