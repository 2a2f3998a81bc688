// YAML -> AdapterConfig with yaml-cpp. Every error names the file and the line of the offending
// node, and unknown keys are errors, so a typo never silently falls back to a default.
#include <re2/re2.h>
#include <yaml-cpp/yaml.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
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
  Loader(std::string source, std::string text) : source_(std::move(source)), text_(std::move(text)) {}

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

  // A rule's backend: the remote ones, or exec (which needs an `exec` block).
  std::string rule_backend(const YAML::Node& node) const {
    auto b = scalar(node, "backend");
    if (b != "sysdig" && b != "prometheus" && b != "push" && b != "exec") {
      fail(node, "backend must be one of sysdig, prometheus, push, exec");
    }
    return b;
  }

  // `exec:` of a rule. The command must exist and be executable now: a rule that cannot run is a
  // configuration error at start (or a rejected reload), not a 503 on every request.
  ExecSpec exec_spec(const YAML::Node& node) const {
    expect_keys(node, {"command", "timeout", "input", "env"}, "exec");
    ExecSpec spec;
    const auto& command = node["command"];
    if (!command) fail(node, "exec needs a command: a list such as [\"/opt/metrics/queue-age.py\", \"--queue\", \"orders\"]");
    if (!command.IsSequence() || command.size() == 0) {
      fail(command, "exec.command must be a non-empty list: the program and its arguments (no shell)");
    }
    for (const auto& arg : command) {
      spec.command.push_back(scalar(arg, "an argument of exec.command"));
      if (spec.command.back().find('\0') != std::string::npos) fail(arg, "an argument of exec.command holds a NUL byte");
    }
    const std::string& program = spec.command.front();
    if (program.empty() || program.front() != '/') {
      fail(command[0], "exec.command must start with an absolute path (\"" + program +
                           "\" is not one): the command is not looked up in PATH");
    }
    struct stat info {};
    if (::stat(program.c_str(), &info) != 0) {
      fail(command[0], "exec.command " + program + " cannot be used: " + std::strerror(errno));
    }
    if (!S_ISREG(info.st_mode)) fail(command[0], "exec.command " + program + " is not a regular file");
    if (::access(program.c_str(), X_OK) != 0) {
      fail(command[0], "exec.command " + program + " is not executable by this process: " + std::strerror(errno));
    }
    if (const auto& timeout = node["timeout"]) {
      auto text = scalar(timeout, "exec.timeout");
      auto d = parse_go_duration(text);
      if (!d) fail(timeout, "exec.timeout \"" + text + "\" is not a duration such as 2s or 500ms");
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(*d);
      if (ms < std::chrono::milliseconds(1) || ms > std::chrono::minutes(10)) {
        fail(timeout, "exec.timeout must be between 1ms and 10m");
      }
      spec.timeout = ms;
    }
    if (const auto& input = node["input"]) {
      auto text = scalar(input, "exec.input");
      if (text != "query" && text != "object") fail(input, "exec.input must be query or object");
      spec.object_input = text == "object";
    }
    if (const auto& env = node["env"]) {
      if (!env.IsSequence()) fail(env, "exec.env must be a list of variable names such as [RABBITMQ_URL]");
      for (const auto& item : env) {
        auto name = scalar(item, "a name in exec.env");
        bool valid = !name.empty() && !(name.front() >= '0' && name.front() <= '9');
        for (char c : name) {
          valid = valid && ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
        }
        if (!valid) fail(item, "exec.env: \"" + name + "\" is not a variable name ([A-Za-z_][A-Za-z0-9_]*)");
        spec.env.push_back(name);
      }
    }
    return spec;
  }

  // Where a scalar's text starts in the file, from the raw text at its mark.
  MetricRule::TextSpot text_spot(const YAML::Node& node) const {
    MetricRule::TextSpot spot;
    const auto mark = node.Mark();
    spot.line = mark.line + 1;
    spot.column = mark.column + 1;
    if (mark.pos < 0 || static_cast<std::size_t>(mark.pos) >= text_.size()) {
      spot.exact = false;
      return spot;
    }
    const char first = text_[static_cast<std::size_t>(mark.pos)];
    const std::string& value = node.Scalar();
    if (first == '|') {
      // A literal block: its lines follow the indicator's line, each at the block's indentation.
      std::size_t next = text_.find('\n', static_cast<std::size_t>(mark.pos));
      std::size_t indent = 0;
      while (next != std::string::npos && next + 1 + indent < text_.size() && text_[next + 1 + indent] == ' ') ++indent;
      spot.line = mark.line + 2;
      spot.column = static_cast<int>(indent) + 1;
      spot.literal_block = true;
      return spot;
    }
    if (first == '"' || first == '\'') ++spot.column;
    // Plain and quoted scalars are exact on one line (escapes aside); folded ones only where they start.
    spot.exact = first != '>' && value.find('\n') == std::string::npos &&
                 text_.find('\n', static_cast<std::size_t>(mark.pos)) >=
                     static_cast<std::size_t>(mark.pos) + value.size() + (first == '"' || first == '\'' ? 1 : 0);
    return spot;
  }

  [[noreturn]] void fail_in_expression(const MetricRule& rule, std::string_view text, std::size_t offset,
                                       const std::string& problem) const {
    std::string where = rule.expression_position(text, offset);
    if (!rule.expr_spot.exact) where += " (column " + std::to_string(offset + 1) + " of the expression)";
    throw ConfigError(source_ + ":" + where + ": " + problem);
  }

  // A user's pattern, on RE2: matching takes time linear in the name whatever the pattern, in the
  // syntax PromQL's =~ uses. RE2 reports its errors by value; its own logging is off.
  std::shared_ptr<const re2::RE2> compile_pattern(const YAML::Node& node, const std::string& what,
                                                  const std::string& pattern) const {
    re2::RE2::Options options;
    options.set_log_errors(false);
    auto compiled = std::make_shared<const re2::RE2>(pattern, options);
    if (!compiled->ok()) fail(node, what + " is not a valid regular expression: " + compiled->error());
    return compiled;
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
                 "timeAggregation", "window", "queryOffset", "cacheTTL", "series", "query", "namespaced", "absentAs",
                 "exec", "expr"},
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
      // Metric names are at most 255 characters; a longer pattern is a mistake, and the limit keeps
      // what one rule may cost to compile small.
      if (r.metric_regex_text.size() > kMaxRegexBytes) {
        fail(node[key], std::string(key) + " is longer than " + std::to_string(kMaxRegexBytes) + " characters");
      }
      r.metric_regex = compile_pattern(node[key], key, r.metric_regex_text);
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
    if (node["backend"]) r.backend = rule_backend(node["backend"]);
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
    if (const auto& exec = node["exec"]) {
      if (!r.backend.empty() && r.backend != "exec") fail(node["backend"], "a rule with exec uses backend exec");
      r.backend = "exec";
      r.exec = exec_spec(exec);
    } else if (r.backend == "exec") {
      fail(node["backend"], "backend exec needs an exec block with the command to run");
    }
    if (r.exec) {
      for (const char* key : {"aggregation", "timeAggregation", "queryOffset", "series", "query"}) {
        if (node[key]) fail(node[key], std::string(key) + " does not apply to exec rules: the command computes the value");
      }
    }
    if (const auto& expr = node["expr"]) computed(node, expr, r);
    return r;
  }

  // `expr`: a computed metric. Only what applies to it may stand beside it.
  void computed(const YAML::Node& node, const YAML::Node& expr, MetricRule& r) const {
    if (!r.metric_regex_text.empty()) {
      fail(expr, "a computed metric names itself with metric or external, not a regex");
    }
    for (const char* key : {"backend", "exec", "aggregation", "timeAggregation", "window", "queryOffset", "cacheTTL",
                            "series", "query", "namespaced"}) {
      if (node[key]) {
        fail(node[key], std::string(key) +
                            " does not apply to a computed metric: each metric in its expr is read through its own rule");
      }
    }
    r.backend = "computed";
    r.expr_spot = text_spot(expr);
    auto text = scalar(expr, "expr");
    try {
      r.expr = MetricExpression::parse(text);
    } catch (const ExpressionError& e) {
      fail_in_expression(r, text, e.offset(), "expr: " + std::string(e.what()));
    }
    for (const auto& operand : r.expr->operands()) {
      if (operand == r.metric) {
        fail_in_expression(r, text, offset_of(*r.expr, operand), "expr: " + r.metric + " cannot be computed from itself");
      }
    }
  }

  static std::size_t offset_of(const MetricExpression& expression, const std::string& operand) {
    std::size_t found = 0;
    bool done = false;
    auto walk = [&](auto& self, const ExpressionNode& node) -> void {
      if (done) return;
      if (node.kind == ExpressionNode::Kind::Operand && node.name == operand) {
        found = node.begin;
        done = true;
        return;
      }
      for (const auto& arg : node.args) self(self, arg);
    };
    walk(walk, expression.root());
    return found;
  }

  // Computed metrics read other metrics through their rules, for the same object (or selector, or
  // external query). Refused at load: an operand no rule exposes for a resource the computed rule
  // lists, and cycles (a computed metric that needs itself, however indirectly).
  void check_computed(const AdapterConfig& config) const {
    bool any = false;
    for (const auto& r : config.rules) any = any || r.expr.has_value();
    if (!any) return;
    std::set<api::GroupResource> resources;
    for (const auto& r : config.rules) resources.insert(r.resources.begin(), r.resources.end());
    // Stands for every resource no rule lists: covered only by rules without a resources list.
    const api::GroupResource unlisted{"\x01unlisted", ""};
    resources.insert(unlisted);
    for (const auto& resource : resources) check_computed_for(config, false, resource, resource == unlisted);
    check_computed_for(config, true, {}, false);
  }

  void check_computed_for(const AdapterConfig& config, bool external, const api::GroupResource& resource,
                          bool unlisted) const {
    auto resolve = [&](const std::string& metric) {
      return external ? config.resolve_external(metric) : config.resolve_custom(metric, resource);
    };
    std::map<const MetricRule*, int> state;  // 1: being visited, 2: done
    std::vector<std::string> path;
    auto visit = [&](auto& self, const MetricRule& rule) -> void {
      state[&rule] = 1;
      path.push_back(rule.metric);
      for (const auto& operand : rule.expr->operands()) {
        auto target = resolve(operand);
        if (!target) {
          bool listed = external || std::find(rule.resources.begin(), rule.resources.end(), resource) != rule.resources.end();
          if (!unlisted && listed) {
            fail_in_expression(rule, rule.expr->text(), offset_of(*rule.expr, operand),
                               "expr: no rule exposes " + operand +
                                   (external ? " as an external metric" : " for " + resource.to_string()) +
                                   ", so " + rule.metric + " could never be computed");
          }
          continue;
        }
        if (target->rule == nullptr || !target->rule->expr) continue;
        int seen = state[target->rule];
        if (seen == 1) {
          std::string cycle;
          bool in_cycle = false;
          for (const auto& name : path) {
            in_cycle = in_cycle || name == target->rule->metric;
            if (in_cycle) cycle += name + " -> ";
          }
          fail_in_expression(rule, rule.expr->text(), offset_of(*rule.expr, operand),
                             "expr: computed metrics depend on each other in a cycle: " + cycle + target->rule->metric +
                                 (external || unlisted ? "" : " (for " + resource.to_string() + ")"));
        }
        if (seen == 0) self(self, *target->rule);
      }
      path.pop_back();
      state[&rule] = 2;
    };
    for (const auto& rule : config.rules) {
      if (!rule.expr || rule.external != external || state[&rule] != 0) continue;
      // Only where this rule is the one that serves its metric (an earlier rule may cover it).
      auto own = resolve(rule.metric);
      if (!own || own->rule != &rule) continue;
      visit(visit, rule);
    }
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
    check_computed(config);
    return config;
  }

 private:
  std::string source_;
  std::string text_;  // the file's text, to place errors inside an expression
};

}  // namespace

AdapterConfig parse_config(const std::string& text, const std::string& source_name) {
  try {
    return Loader(source_name, text).load(text);
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
