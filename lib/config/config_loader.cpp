// YAML -> AdapterConfig with yaml-cpp. Every error names the file and the line of the offending
// node, and unknown keys are errors, so a typo never silently falls back to a default.
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <set>
#include <sstream>

#include "lib/api/names.h"
#include "lib/config/adapter_config.h"
#include "lib/config/go_duration.h"

namespace sma::config {
namespace {

constexpr std::size_t kMaxRegexBytes = 1024;

class Loader {
 public:
  explicit Loader(std::string source) : source_(std::move(source)) {}

  [[noreturn]] void fail(const YAML::Node& node, const std::string& problem) const {
    int line = node.Mark().line >= 0 ? node.Mark().line + 1 : 0;
    throw ConfigError(source_ + ":" + std::to_string(line) + ": " + problem);
  }

  void expect_keys(const YAML::Node& map, const std::set<std::string>& allowed, const std::string& where) const {
    if (!map.IsMap()) fail(map, where + " must be a mapping");
    for (const auto& kv : map) {
      auto key = kv.first.as<std::string>();
      if (!allowed.count(key)) {
        std::string list;
        for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
        fail(kv.first, "unknown key \"" + key + "\" in " + where + " (expected one of: " + list + ")");
      }
    }
  }

  std::string scalar(const YAML::Node& node, const std::string& what) const {
    if (!node.IsScalar()) fail(node, what + " must be a single value");
    return node.as<std::string>();
  }

  std::chrono::seconds seconds(const YAML::Node& node, const std::string& what, bool allow_zero) const {
    auto text = scalar(node, what);
    auto d = parse_go_duration(text);
    if (!d) fail(node, what + " \"" + text + "\" is not a duration such as 30s or 1m");
    if (d->count() % 1000000000 != 0) fail(node, what + " must be whole seconds");
    auto s = std::chrono::duration_cast<std::chrono::seconds>(*d);
    if (!allow_zero && s.count() == 0) fail(node, what + " must be at least 1s");
    return s;
  }

  Aggregation aggregation(const YAML::Node& node) const {
    auto a = parse_aggregation(scalar(node, "aggregation"));
    if (!a) fail(node, "aggregation must be one of sum, avg, max, min");
    return *a;
  }

  TimeAggregation time_aggregation(const YAML::Node& node) const {
    auto t = parse_time_aggregation(scalar(node, "timeAggregation"));
    if (!t) fail(node, "timeAggregation must be one of avg, sum, max, min, last, rate");
    return *t;
  }

  std::string backend(const YAML::Node& node) const {
    auto b = scalar(node, "backend");
    if (b != "sysdig" && b != "prometheus" && b != "push") fail(node, "backend must be one of sysdig, prometheus, push");
    return b;
  }

  std::string metric_name(const YAML::Node& node, const std::string& what) const {
    auto name = scalar(node, what);
    if (auto problem = api::check_metric_name(name)) fail(node, *problem);
    return name;
  }

  void labels(const YAML::Node& node, LabelMapping& mapping, const std::string& where) const {
    expect_keys(node, {"cluster", "namespace", "workloadName", "workloadType", "resources"}, where);
    if (node["cluster"]) mapping.cluster = scalar(node["cluster"], "cluster");
    if (node["namespace"]) mapping.namespace_ = scalar(node["namespace"], "namespace");
    if (node["workloadName"]) mapping.workload_name = scalar(node["workloadName"], "workloadName");
    if (node["workloadType"]) mapping.workload_type = scalar(node["workloadType"], "workloadType");
    if (const auto& resources = node["resources"]) {
      if (!resources.IsMap()) fail(resources, "resources must map resource names to label names");
      for (const auto& kv : resources) {
        auto resource = kv.first.as<std::string>();
        if (auto problem = api::check_resource_name(resource)) fail(kv.first, *problem);
        mapping.resources[resource] = scalar(kv.second, "the label of " + resource);
      }
    }
  }

  MetricRule rule(const YAML::Node& node) const {
    expect_keys(node,
                {"metric", "metricRegex", "external", "externalRegex", "resources", "backend", "aggregation",
                 "timeAggregation", "window", "queryOffset", "cacheTTL", "series", "query", "namespaced", "absentAs"},
                "a rule");
    MetricRule r;
    r.line = node.Mark().line + 1;
    int selectors = (node["metric"] ? 1 : 0) + (node["metricRegex"] ? 1 : 0) + (node["external"] ? 1 : 0) +
                    (node["externalRegex"] ? 1 : 0);
    if (selectors != 1) fail(node, "a rule names exactly one of metric, metricRegex, external, externalRegex");
    r.external = node["external"] || node["externalRegex"];
    if (node["metric"]) r.metric = metric_name(node["metric"], "metric");
    if (node["external"]) r.metric = metric_name(node["external"], "external");
    for (const char* key : {"metricRegex", "externalRegex"}) {
      if (!node[key]) continue;
      r.metric_regex_text = scalar(node[key], key);
      // std::regex compiles recursively: a pattern of many thousand characters or nested groups
      // exhausts the stack (found while fuzzing the rules file). Metric names are at most 255.
      if (r.metric_regex_text.size() > kMaxRegexBytes) {
        fail(node[key], std::string(key) + " is longer than " + std::to_string(kMaxRegexBytes) + " characters");
      }
      try {
        r.metric_regex.emplace(r.metric_regex_text, std::regex::ECMAScript);
      } catch (const std::regex_error& e) {
        fail(node[key], std::string(key) + " is not a valid regular expression: " + e.what());
      }
    }
    if (const auto& resources = node["resources"]) {
      if (r.external) fail(resources, "external rules have no resources");
      if (!resources.IsSequence()) fail(resources, "resources must be a list such as [pods, deployments.apps]");
      for (const auto& item : resources) {
        auto name = scalar(item, "a resource");
        if (auto problem = api::check_resource_name(name)) fail(item, *problem);
        r.resources.push_back(api::GroupResource::parse(name));
      }
    }
    if (node["backend"]) r.backend = backend(node["backend"]);
    if (node["aggregation"]) r.aggregation = aggregation(node["aggregation"]);
    if (node["timeAggregation"]) r.time_aggregation = time_aggregation(node["timeAggregation"]);
    if (node["window"]) r.window = seconds(node["window"], "window", false);
    if (node["queryOffset"]) r.query_offset = seconds(node["queryOffset"], "queryOffset", true);
    if (node["cacheTTL"]) r.cache_ttl = seconds(node["cacheTTL"], "cacheTTL", true);
    if (node["series"]) r.series = scalar(node["series"], "series");
    if (const auto& query = node["query"]) {
      r.query = scalar(query, "query");
      if (r.query.find("<<.LabelMatchers>>") == std::string::npos) {
        fail(query, "query must contain <<.LabelMatchers>> so every query stays scoped to its cluster and namespace");
      }
      if (!r.external && r.query.find("<<.GroupBy>>") == std::string::npos) {
        fail(query, "a custom-metric query must group by <<.GroupBy>> so values can be told apart per object");
      }
    }
    if (const auto& ns = node["namespaced"]) {
      if (!r.external) fail(ns, "namespaced applies to external rules only");
      auto text = scalar(ns, "namespaced");
      if (text != "true" && text != "false") fail(ns, "namespaced must be true or false");
      r.namespaced = text == "true";
    }
    if (const auto& absent = node["absentAs"]) {
      auto text = scalar(absent, "absentAs");
      auto q = api::Quantity::parse(text);
      if (!q) fail(absent, "absentAs \"" + text + "\" is not a quantity");
      r.absent_as = q;
    }
    return r;
  }

  AdapterConfig load(const std::string& text) const {
    AdapterConfig config;
    config.source = source_;
    YAML::Node root;
    try {
      root = YAML::Load(text);
    } catch (const YAML::ParserException& e) {
      throw ConfigError(source_ + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
    }
    if (root.IsNull()) return config;  // an empty file is the defaults
    expect_keys(root, {"defaults", "labels", "rules"}, "the top level");
    if (const auto& d = root["defaults"]) {
      expect_keys(d, {"backend", "aggregation", "timeAggregation", "window", "queryOffset"}, "defaults");
      if (d["backend"]) config.default_backend = backend(d["backend"]);
      if (d["aggregation"]) config.default_aggregation = aggregation(d["aggregation"]);
      if (d["timeAggregation"]) config.default_time_aggregation = time_aggregation(d["timeAggregation"]);
      if (d["window"]) config.default_window = seconds(d["window"], "window", false);
      if (d["queryOffset"]) config.default_query_offset = seconds(d["queryOffset"], "queryOffset", true);
    }
    if (const auto& l = root["labels"]) {
      expect_keys(l, {"promql", "prometheus", "dataApi"}, "labels");
      if (l["promql"]) labels(l["promql"], config.promql_labels, "labels.promql");
      if (l["prometheus"]) labels(l["prometheus"], config.prometheus_labels, "labels.prometheus");
      if (l["dataApi"]) labels(l["dataApi"], config.data_api_labels, "labels.dataApi");
    }
    if (const auto& rules = root["rules"]) {
      if (!rules.IsSequence()) fail(rules, "rules must be a list");
      for (const auto& node : rules) config.rules.push_back(rule(node));
    }
    return config;
  }

 private:
  std::string source_;
};

}  // namespace

AdapterConfig parse_config(const std::string& text, const std::string& source_name) {
  try {
    return Loader(source_name).load(text);
  } catch (const YAML::Exception& e) {  // conversions on malformed nodes
    throw ConfigError(source_name + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
}

AdapterConfig load_config_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError(path + ": cannot read the config file");
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_config(ss.str(), path);
}

}  // namespace sma::config
