#include "lib/api/names.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace sma::api;

namespace {

struct Rejection {
  std::string name;
  std::vector<std::string> message_parts;
};

template <typename Check>
void require_accepted(Check check, const std::vector<std::string>& names) {
  for (const auto& name : names) {
    INFO("name \"" << name << "\"");
    const auto problem = check(name);
    INFO("problem: " << problem.value_or("(none)"));
    CHECK_FALSE(problem.has_value());
  }
}

template <typename Check>
void require_rejected(Check check, const std::vector<Rejection>& rejections) {
  for (const auto& rejection : rejections) {
    INFO("name \"" << rejection.name << "\"");
    const auto problem = check(rejection.name);
    REQUIRE(problem.has_value());
    INFO("problem: " << *problem);
    for (const auto& part : rejection.message_parts) CHECK(problem->find(part) != std::string::npos);
  }
}

const std::string kLabelRule = "lowercase RFC 1123 label must consist of lower case alphanumeric";
const std::string kSubdomainRule = "lowercase RFC 1123 subdomain must consist of lower case";

}  // namespace

TEST_CASE("namespace names are RFC 1123 labels", "[names]") {
  require_accepted(check_namespace_name,
                   {"default", "kube-system", "a", "0", "a1-b2", std::string(63, 'n')});
  require_rejected(check_namespace_name,
                   {
                       {"", {"namespace \"\" is invalid", "must not be empty"}},
                       {"Foo", {"namespace \"Foo\" is invalid", kLabelRule, "e.g. 'my-name'"}},
                       {"-a", {kLabelRule, "start and end with an alphanumeric"}},
                       {"a-", {kLabelRule}},
                       {"a.b", {kLabelRule}},
                       {"a_b", {kLabelRule}},
                       {"a b", {kLabelRule}},
                       {"../etc", {kLabelRule}},
                       {std::string(64, 'n'), {"no more than 63 characters (it has 64)"}},
                   });
}

TEST_CASE("object and resource names are RFC 1123 subdomains", "[names]") {
  const std::vector<std::string> valid = {
      "kuard", "my-app-5d8f9c7b6-x2x9z", "a.b.c", "0", "web-0", "deployments.apps",
      "ingresses.networking.k8s.io", std::string(253, 'o'),
      // Like Kubernetes, a single label may exceed 63 characters inside a subdomain.
      std::string(64, 'o') + ".x"};
  require_accepted(check_object_name, valid);
  require_accepted(check_resource_name, valid);

  const std::vector<Rejection> invalid = {
      {"", {"must not be empty"}},
      {"Kuard", {"\"Kuard\" is invalid", kSubdomainRule}},
      {"a..b", {kSubdomainRule}},
      {".a", {kSubdomainRule}},
      {"a.", {kSubdomainRule}},
      {"a.-b", {kSubdomainRule}},
      {"a_b", {kSubdomainRule}},
      {"*", {kSubdomainRule}},
      {"a/b", {kSubdomainRule}},
      {"a\"b", {"\"a\\\"b\" is invalid"}},
      {"a\nb", {"\"a\\x0ab\" is invalid"}},
      {std::string(254, 'o'), {"no more than 253 characters (it has 254)", "...\""}},
  };
  require_rejected(check_object_name, invalid);
  require_rejected(check_resource_name, invalid);
  CHECK(check_object_name("A")->find("object name \"A\" is invalid") == 0);
  CHECK(check_resource_name("Pods")->find("resource \"Pods\" is invalid") == 0);
}

TEST_CASE("metric names", "[names]") {
  require_accepted(check_metric_name,
                   {"net.http.request.count", "http_requests_total", "_x", ":x", ".x", "a1",
                    "cpu.used.percent", "sysdig:container_cpu:rate1m", std::string(255, 'm')});
  const std::string rule = "must start with a letter, '_', ':' or '.'";
  require_rejected(check_metric_name,
                   {
                       {"", {"metric name \"\" is invalid", "must not be empty"}},
                       {"1abc", {"metric name \"1abc\" is invalid", rule}},
                       {"a-b", {rule}},
                       {"a b", {rule}},
                       {"a\"}", {rule}},
                       {"a'", {rule}},
                       {"a\\", {rule}},
                       {"up{job=\"x\"}", {rule}},
                       {"caf\xc3\xa9", {"\\xc3\\xa9"}},
                       {std::string(256, 'm'), {"no more than 255 characters (it has 256)"}},
                   });
}

TEST_CASE("label keys are qualified names", "[names]") {
  require_accepted(check_label_key,
                   {"app", "App", "a", "1", "a.b_c-D", "example.com/app", "app.kubernetes.io/name",
                    "k8s.io/x", std::string(63, 'k'), std::string(253, 'p') + "/" + std::string(63, 'k')});
  const std::string rule = "must consist of alphanumeric characters, '-', '_' or '.'";
  require_rejected(check_label_key,
                   {
                       {"", {"label key \"\" is invalid", "name part must not be empty"}},
                       {"-app", {"name part " + rule}},
                       {"app_", {"name part " + rule}},
                       {"a b", {"name part " + rule}},
                       {"/app", {"prefix part must not be empty"}},
                       {"example.com/", {"name part must not be empty"}},
                       {"Example.com/app", {"prefix part: a " + kSubdomainRule}},
                       {"a/b/c", {"\"a/b/c\" is invalid", "optional DNS subdomain prefix and one '/'"}},
                       {std::string(64, 'k'), {"name part must be no more than 63 characters (it has 64)"}},
                       {std::string(254, 'p') + "/k", {"prefix part must be no more than 253 characters"}},
                   });
}

TEST_CASE("label values", "[names]") {
  require_accepted(check_label_value, {"", "a", "A", "1", "web", "my_value", "v1.2.3", "A-b_c.D",
                                       std::string(63, 'v')});
  const std::string rule = "must be an empty string or consist of alphanumeric characters";
  require_rejected(check_label_value,
                   {
                       {"-a", {"label value \"-a\" is invalid", rule}},
                       {"a-", {rule}},
                       {"a/b", {rule}},
                       {"a b", {rule}},
                       {"a'b", {rule}},
                       {std::string(64, 'v'), {"no more than 63 characters (it has 64)"}},
                   });
}
