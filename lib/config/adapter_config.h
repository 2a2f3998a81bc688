// The adapter's rules: which metrics are exposed, which backend serves each, how values are
// aggregated over an object's pods and over time, and how Kubernetes objects map to backend labels.
// An empty configuration is useful: every metric goes to the default backend with sum over 1m.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "lib/api/metric_types.h"
#include "lib/api/quantity.h"
#include "lib/config/metric_expression.h"

namespace re2 {
class RE2;
}

namespace sma::config {

enum class Aggregation { Sum, Avg, Max, Min };
enum class TimeAggregation { Avg, Sum, Max, Min, Last, Rate };

std::string to_string(Aggregation a);       // "sum"
std::string to_string(TimeAggregation t);   // "avg"
std::optional<Aggregation> parse_aggregation(const std::string& text);
std::optional<TimeAggregation> parse_time_aggregation(const std::string& text);

// Backend label names for the Kubernetes notions a query is scoped by.
struct LabelMapping {
  std::string cluster;
  std::string namespace_;
  std::string workload_name;  // for legacy "deployment;kuard" names
  std::string workload_type;
  std::map<std::string, std::string> resources;  // "deployments.apps" -> "kube_deployment_name"

  // The label identifying objects of this resource, or empty when none is known.
  std::string label_for(const api::GroupResource& resource) const;
};

LabelMapping default_promql_labels();    // Sysdig's PromQL labels: kube_cluster_name, kube_namespace_name, ...
LabelMapping default_prometheus_labels();  // Prometheus conventions: cluster, namespace, pod, service, ...
LabelMapping default_data_api_labels();  // kubernetes.cluster.name, kubernetes.namespace.name, ...

// How an exec rule runs its command (providers/exec/, docs/user-logic.md).
struct ExecSpec {
  std::vector<std::string> command;  // argv, no shell; command[0] is an absolute path to an executable
  std::chrono::milliseconds timeout{std::chrono::seconds(5)};
  bool object_input = false;     // `input: object`: the described object(s) go to the command too
  std::vector<std::string> env;  // variables passed through from the adapter's environment; nothing else
};

struct MetricRule {
  // Which API metric names the rule covers: exactly `metric`, or every name `metric_regex` matches
  // in full. RE2: linear-time matching, the syntax PromQL uses; shared, since RE2 does not copy.
  std::string metric;
  std::shared_ptr<const re2::RE2> metric_regex;
  std::string metric_regex_text;
  bool external = false;
  std::vector<api::GroupResource> resources;  // custom rules: empty = every resource

  // "sysdig", "prometheus", "push", "exec" (with `exec`), "computed" (with `expr`); empty = the
  // default backend.
  std::string backend;
  std::optional<Aggregation> aggregation;
  std::optional<TimeAggregation> time_aggregation;
  std::optional<std::chrono::seconds> window;
  std::optional<std::chrono::seconds> query_offset;
  std::optional<std::chrono::seconds> cache_ttl;  // how long a backend answer is reused; unset: --cache-ttl
  std::string series;  // the backend's metric name when it differs from the API name (rename)
  std::string query;   // a PromQL template for what a simple mapping cannot express
  bool namespaced = true;  // external rules: scope to the request's namespace (false for cluster-wide series)
  std::optional<api::Quantity> absent_as;  // computed rules: what an absent operand counts as
  std::optional<ExecSpec> exec;
  std::optional<MetricExpression> expr;    // a computed metric: its value is this expression

  int line = 0;  // where the rule starts in the file, for messages
  // Where `expr`'s text starts in the file (1-based), and how it is written there, so an offset
  // in the expression can be named as file:line:column.
  struct TextSpot {
    int line = 0;
    int column = 0;
    bool literal_block = false;  // `expr: |`: expression line k is file line `line + k`, at `column`
    bool exact = true;           // false: a folded or multi-line scalar; only where it starts is known
  } expr_spot;

  bool covers(const std::string& metric_name) const;
  // "line:column" in the file of the character at `offset` of the expression `text`.
  std::string expression_position(std::string_view text, std::size_t offset) const;
};

// A rule merged with the defaults: everything a provider needs to build one query.
struct ResolvedRule {
  const MetricRule* rule = nullptr;  // null when no rule matched and defaults apply
  std::string backend;
  Aggregation aggregation = Aggregation::Sum;
  TimeAggregation time_aggregation = TimeAggregation::Avg;
  std::chrono::seconds window{60};
  std::optional<std::chrono::seconds> query_offset;  // unset: the backend's default offset
  std::optional<std::chrono::seconds> cache_ttl;     // unset: --cache-ttl
  std::string series;
  std::string query;
  bool namespaced = true;
  std::optional<api::Quantity> absent_as;
  std::string origin;  // "rule at adapter.yaml:12" or "defaults", for messages
};

struct AdapterConfig {
  std::string source;  // the file it came from, empty for built-in defaults
  std::string default_backend;  // filled from flags when the file leaves it empty
  Aggregation default_aggregation = Aggregation::Sum;
  TimeAggregation default_time_aggregation = TimeAggregation::Avg;
  std::chrono::seconds default_window{60};
  std::optional<std::chrono::seconds> default_query_offset;
  LabelMapping promql_labels = default_promql_labels();
  LabelMapping prometheus_labels = default_prometheus_labels();
  LabelMapping data_api_labels = default_data_api_labels();
  std::vector<MetricRule> rules;

  bool has_custom_rules() const;
  bool has_external_rules() const;

  // The first rule covering the metric (for that resource); with no rules of that kind every metric
  // is exposed with the defaults. nullopt when rules exist and none covers it.
  std::optional<ResolvedRule> resolve_custom(const std::string& metric, const api::GroupResource& resource) const;
  std::optional<ResolvedRule> resolve_external(const std::string& metric) const;
};

// Thrown by the loader: "adapter.yaml:12: aggregation must be one of sum, avg, max, min".
struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

AdapterConfig load_config_file(const std::string& path);
AdapterConfig parse_config(const std::string& text, const std::string& source_name);

}  // namespace sma::config
