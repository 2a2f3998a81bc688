// The Secret the adapter writes reads back as the same material; what marks it as the adapter's.
#include "lib/servingcert/serving_secret.h"

#include <catch2/catch.hpp>
#include <stdexcept>

namespace sma::servingcert {

TEST_CASE("a written Secret reads back as the same material, labelled as the adapter's", "[servingcert]") {
  ServingMaterial material{"CA\n", "CA KEY\n", "CERT\n", "KEY \"quoted\"\n"};
  SecretName name = parse_secret_name("custom-metrics/serving");
  std::string created = write_serving_secret(name, material);
  CHECK(created.find("\"resourceVersion\"") == std::string::npos);
  CHECK(created.find("\"type\":\"kubernetes.io/tls\"") != std::string::npos);
  ServingSecret back = read_serving_secret(created);
  CHECK(back.material == material);
  CHECK(back.made_by_adapter);

  std::string updated = write_serving_secret(name, material, "42", "Opaque");
  CHECK(updated.find("\"resourceVersion\":\"42\"") != std::string::npos);
  ServingSecret again = read_serving_secret(updated);
  CHECK(again.resource_version == "42");
  CHECK(again.type == "Opaque");
  CHECK(name.path() == "/api/v1/namespaces/custom-metrics/secrets/serving");
}

TEST_CASE("a Secret without the label is someone else's; missing keys read as empty", "[servingcert]") {
  ServingSecret secret = read_serving_secret(
      R"({"kind":"Secret","apiVersion":"v1","metadata":{"name":"s","resourceVersion":"9","labels":{"app":"x"}},)"
      R"("type":"kubernetes.io/tls","data":{"tls.crt":"Q0VSVA==","tls.key":"S0VZ"}})");
  CHECK_FALSE(secret.made_by_adapter);
  CHECK(secret.resource_version == "9");
  CHECK(secret.material.certificate_pem == "CERT");
  CHECK(secret.material.key_pem == "KEY");
  CHECK(secret.material.ca_bundle_pem.empty());
}

TEST_CASE("answers that are not a Secret, and names that are not NAMESPACE/NAME, are refused", "[servingcert]") {
  CHECK_THROWS_AS(read_serving_secret(R"({"kind":"ConfigMap"})"), std::runtime_error);
  CHECK_THROWS_AS(read_serving_secret("not json"), std::runtime_error);
  CHECK_THROWS_WITH(read_serving_secret(R"({"kind":"Secret","data":{"tls.crt":"%%%"}})"), Catch::Contains("tls.crt"));
  CHECK_THROWS_AS(parse_secret_name("just-a-name"), std::runtime_error);
  CHECK_THROWS_AS(parse_secret_name("Bad_NS/name"), std::runtime_error);
  CHECK_THROWS_AS(parse_secret_name("ns/"), std::runtime_error);
}

}  // namespace sma::servingcert
