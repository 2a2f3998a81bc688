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

TEST_CASE("an empty file is the defaults: every metric, sum over 1m") {
  auto c = parse_config("", "adapter.yaml");
  c.default_backend = "sysdig";
  auto r = c.resolve_custom("anything", {"pods", ""});
  REQUIRE(r);
  CHECK(r->backend == "sysdig");
  CHECK(r->aggregation == config::Aggregation::Sum);
  CHECK(r->time_aggregation == config::TimeAggregation::Avg);
  CHECK(r->window == std::chrono::seconds(60));
  CHECK(r->namespaced);
  CHECK(c.resolve_external("queue"));
}

TEST_CASE("rules choose backend, aggregation, window and rename per metric and resource") {
  auto c = parse_config(R"(
defaults:
  backend: sysdig
  window: 30s
rules:
  - metric: net.http.request.count
    resources: [services, deployments.apps]
    aggregation: avg
    cacheTTL: 30s
    series: sysdig_container_net_http_request_count
  - metricRegex: "http_.*"
    backend: prometheus
    timeAggregation: rate
    window: 2m
    absentAs: 0
  - external: queue_depth
    namespaced: false
    query: 'sum(sysdig_queue_depth{<<.LabelMatchers>>})'
)",
                        "adapter.yaml");
  auto a = c.resolve_custom("net.http.request.count", {"deployments", "apps"});
  REQUIRE(a);
  CHECK(a->backend == "sysdig");
  CHECK(a->aggregation == config::Aggregation::Avg);
  CHECK(a->window == std::chrono::seconds(30));
  CHECK(a->series == "sysdig_container_net_http_request_count");
  CHECK(a->cache_ttl == std::chrono::seconds(30));
  CHECK(a->origin == "rule at adapter.yaml:6");
  CHECK_FALSE(c.resolve_custom("net.http.request.count", {"pods", ""}));  // resource not listed

  auto b = c.resolve_custom("http_requests_total", {"pods", ""});
  REQUIRE(b);
  CHECK(b->backend == "prometheus");
  CHECK(b->time_aggregation == config::TimeAggregation::Rate);
  CHECK(b->window == std::chrono::minutes(2));
  CHECK_FALSE(b->cache_ttl);  // --cache-ttl applies
  REQUIRE(b->absent_as);
  CHECK(b->absent_as->is_zero());
  CHECK_FALSE(c.resolve_custom("xhttp_requests", {"pods", ""}));  // the regex must match the whole name

  auto e = c.resolve_external("queue_depth");
  REQUIRE(e);
  CHECK_FALSE(e->namespaced);
  CHECK_FALSE(c.resolve_external("other"));
}

TEST_CASE("label mappings can be overridden per backend") {
  auto c = parse_config(R"(
labels:
  prometheus:
    namespace: k8s_namespace
    resources:
      pods: k8s_pod
)",
                        "x.yaml");
  CHECK(c.prometheus_labels.namespace_ == "k8s_namespace");
  CHECK(c.prometheus_labels.label_for({"pods", ""}) == "k8s_pod");
  CHECK(c.prometheus_labels.label_for({"services", ""}) == "service");
  CHECK(c.promql_labels.namespace_ == "kube_namespace_name");
}

TEST_CASE("config errors name the file, the line and the problem") {
  struct Case {
    const char* yaml;
    const char* expected;
  };
  for (auto c : {
           Case{"rules:\n  - metric: m\n    aggregation: median\n", "adapter.yaml:3: aggregation must be one of"},
           Case{"rules:\n  - metric: m\n    window: soon\n", "adapter.yaml:3: window \"soon\" is not a duration"},
           Case{"rules:\n  - metric: m\n    window: 1500ms\n", "adapter.yaml:3: window must be whole seconds"},
           Case{"rules:\n  - metric: m\n    backend: graphite\n", "adapter.yaml:3: backend must be one of"},
           Case{"rules:\n  - metric: m\n    agregation: sum\n", "adapter.yaml:3: unknown key \"agregation\""},
           Case{"rules:\n  - metric: m\n    metricRegex: x\n", "adapter.yaml:2: a rule names exactly one of"},
           Case{"rules:\n  - metricRegex: \"(\"\n", "adapter.yaml:2: metricRegex is not a valid regular expression"},
           Case{"rules:\n  - metric: \"bad name\"\n", "adapter.yaml:2: "},
           Case{"rules:\n  - metric: m\n    resources: [Pods]\n", "adapter.yaml:3: "},
           Case{"rules:\n  - metric: m\n    query: 'sum(m)'\n", "adapter.yaml:3: query must contain <<.LabelMatchers>>"},
           Case{"rules:\n  - metric: m\n    query: 'sum(m{<<.LabelMatchers>>})'\n", "must group by <<.GroupBy>>"},
           Case{"rules:\n  - metric: m\n    absentAs: lots\n", "adapter.yaml:3: absentAs \"lots\" is not a quantity"},
           Case{"rules:\n  - metric: m\n    cacheTTL: later\n", "adapter.yaml:3: cacheTTL \"later\" is not a duration"},
           Case{"rules:\n  - external: q\n    resources: [pods]\n", "adapter.yaml:3: external rules have no resources"},
           Case{"rules: [\n", "adapter.yaml:2: "},
           Case{"rulez: []\n", "adapter.yaml:1: unknown key \"rulez\""},
           Case{"defaults:\n  window: 0s\n", "adapter.yaml:2: window must be at least 1s"},
       }) {
    INFO(c.yaml);
    CHECK_THAT(error_of(c.yaml), Catch::StartsWith(c.expected) || Catch::Contains(c.expected));
  }
}

TEST_CASE("rule regexes are RE2: PromQL's syntax, whole-name matches, no backtracking") {
  auto c = parse_config(R"(
rules:
  - metricRegex: "(?i)http_.*_total"
  - metricRegex: "(a*)*b"
  - externalRegex: "queue\\.[a-z]+"
)",
                        "adapter.yaml");
  CHECK(c.resolve_custom("HTTP_requests_total", {"pods", ""}));
  CHECK_FALSE(c.resolve_custom("http_requests_total_x", {"pods", ""}));  // anchored at both ends
  CHECK(c.resolve_external("queue.depth"));
  CHECK_FALSE(c.resolve_external("queue_depth"));
  // Nested quantifiers made std::regex take exponential time on such a name; RE2 is linear in it.
  CHECK_FALSE(c.resolve_custom(std::string(200, 'a') + "c", {"pods", ""}));
  CHECK(c.resolve_custom(std::string(200, 'a') + "b", {"pods", ""}));
  // Backreferences and lookarounds are not RE2 (nor PromQL): refused at load with the line.
  CHECK_THAT(error_of("rules:\n  - metricRegex: \"(a)\\\\1\"\n"),
             Catch::StartsWith("adapter.yaml:2: metricRegex is not a valid regular expression: "));
  CHECK_THAT(error_of("rules:\n  - metricRegex: \"x(?=y)\"\n"),
             Catch::StartsWith("adapter.yaml:2: metricRegex is not a valid regular expression: "));
}

TEST_CASE("an over-long regex is an error, not a stack overflow") {
  // std::regex compiled recursively (20000 nested groups overflowed the stack); RE2 does not, but
  // metric names are at most 255 characters, so the limit stays.
  const std::string nested = std::string(20000, '(') + "a" + std::string(20000, ')');
  CHECK_THAT(error_of("rules:\n  - metricRegex: \"" + nested + "\"\n"),
             Catch::StartsWith("adapter.yaml:2: metricRegex is longer than 1024 characters"));
  CHECK_THAT(error_of("rules:\n  - externalRegex: " + std::string(100000, 'a') + "\n"),
             Catch::StartsWith("adapter.yaml:2: externalRegex is longer than 1024 characters"));
  CHECK(parse_config("rules:\n  - metricRegex: " + std::string(1024, 'a') + "\n", "adapter.yaml").rules.size() == 1);
}

TEST_CASE("an unreadable file names the file") {
  try {
    config::load_config_file("/nonexistent/adapter.yaml");
    FAIL("loaded");
  } catch (const ConfigError& e) {
    CHECK_THAT(e.what(), Catch::StartsWith("/nonexistent/adapter.yaml:"));
  }
}
