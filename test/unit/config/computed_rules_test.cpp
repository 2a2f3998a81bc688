// Computed metrics (`expr`) in the rules file: parsed at load, errors at file:line:column, operands
// that no rule exposes and cycles refused.
#include <catch2/catch.hpp>

#include "lib/config/adapter_config.h"

using namespace sma;
using config::ConfigError;
using config::parse_config;

namespace {

std::string error_of(const std::string& yaml) {
  try {
    parse_config(yaml, "adapter.yaml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("a computed rule is parsed once at load and resolves to the computed backend") {
  auto c = parse_config(R"yaml(
rules:
  - metric: requests_per_ready_pod
    resources: [deployments.apps]
    expr: "http_requests_per_second / max(kube_ready_pods, 1)"
    absentAs: 0
  - metric: http_requests_per_second
    backend: prometheus
  - metric: kube_ready_pods
  - external: queue_age_seconds
    expr: messages_ready / publish_rate
  - external: messages_ready
  - external: publish_rate
)yaml",
                        "adapter.yaml");
  auto r = c.resolve_custom("requests_per_ready_pod", {"deployments", "apps"});
  REQUIRE(r);
  CHECK(r->backend == "computed");
  REQUIRE(r->rule->expr);
  CHECK(r->rule->expr->operands() == std::vector<std::string>{"http_requests_per_second", "kube_ready_pods"});
  REQUIRE(r->absent_as);
  auto e = c.resolve_external("queue_age_seconds");
  REQUIRE(e);
  CHECK(e->backend == "computed");
}

TEST_CASE("expression errors name file:line:column of the character") {
  CHECK(error_of("rules:\n  - metric: m\n    expr: a + * b\n") ==
        "adapter.yaml:3:15: expr: expected an operand (a metric name, a number, a function or '(') but found '*'");
  CHECK(error_of("rules:\n  - metric: m\n    expr: \"a + * b\"\n") ==
        "adapter.yaml:3:16: expr: expected an operand (a metric name, a number, a function or '(') but found '*'");
  CHECK(error_of("rules:\n  - metric: m\n    expr: |\n      a +\n      sqrt(b)\n") ==
        "adapter.yaml:5:7: expr: unknown function \"sqrt\" (the functions are min, max, abs and clamp)");
  CHECK_THAT(error_of("rules:\n  - metric: m\n    expr: >\n      a +\n      sqrt(b)\n"),
             Catch::StartsWith("adapter.yaml:3:11 (column 5 of the expression): expr: unknown function"));
}

TEST_CASE("what does not apply to a computed metric is refused") {
  CHECK_THAT(error_of("rules:\n  - metric: m\n    expr: a\n    backend: sysdig\n  - metric: a\n"),
             Catch::StartsWith("adapter.yaml:4: backend does not apply to a computed metric"));
  CHECK_THAT(error_of("rules:\n  - metric: m\n    expr: a\n    window: 1m\n  - metric: a\n"),
             Catch::StartsWith("adapter.yaml:4: window does not apply to a computed metric"));
  CHECK_THAT(error_of("rules:\n  - metricRegex: m.*\n    expr: a\n"),
             Catch::StartsWith("adapter.yaml:3: a computed metric names itself with metric or external"));
  CHECK(error_of("rules:\n  - metric: m\n    expr: m * 2\n") == "adapter.yaml:3:11: expr: m cannot be computed from itself");
}

TEST_CASE("an operand no rule exposes for a listed resource is refused at load") {
  CHECK(error_of(R"yaml(rules:
  - metric: per_pod
    resources: [deployments.apps]
    expr: requests / ready_pods
  - metric: requests
    resources: [deployments.apps]
  - metric: ready_pods
    resources: [services]
)yaml") == "adapter.yaml:4:22: expr: no rule exposes ready_pods for deployments.apps, so per_pod could never be computed");
  CHECK(error_of("rules:\n  - external: age\n    expr: ready / rate\n  - external: ready\n") ==
        "adapter.yaml:3:19: expr: no rule exposes rate as an external metric, so age could never be computed");
  // Without a resources list the computed rule covers resources nobody can enumerate: checked per request.
  CHECK(error_of("rules:\n  - metric: m\n    expr: a / b\n  - metric: a\n    resources: [pods]\n") == "");
}

TEST_CASE("cycles between computed metrics are refused at load") {
  CHECK(error_of(R"yaml(rules:
  - metric: a
    expr: b + 1
  - metric: b
    expr: c * 2
  - metric: c
    expr: a - 1
)yaml") == "adapter.yaml:7:11: expr: computed metrics depend on each other in a cycle: a -> b -> c -> a");
  CHECK(error_of("rules:\n  - external: x\n    expr: y\n  - external: y\n    expr: x / 2\n") ==
        "adapter.yaml:5:11: expr: computed metrics depend on each other in a cycle: x -> y -> x");
  // The same names for different resources are not a cycle: b for pods is read from a backend.
  CHECK(error_of(R"yaml(rules:
  - metric: a
    resources: [deployments.apps]
    expr: b
  - metric: b
    resources: [deployments.apps]
    expr: c
  - metric: b
    resources: [pods]
  - metric: c
    resources: [deployments.apps]
)yaml") == "");
  // A cycle only through the resources one rule lists is still found, and named.
  CHECK(error_of(R"yaml(rules:
  - metric: a
    resources: [pods, services]
    expr: b
  - metric: b
    resources: [services]
    expr: a
  - metric: b
    resources: [pods]
)yaml") == "adapter.yaml:7:11: expr: computed metrics depend on each other in a cycle: a -> b -> a (for services)");
}
