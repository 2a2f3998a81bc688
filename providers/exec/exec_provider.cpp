#include "providers/exec/exec_provider.h"

#include <algorithm>
#include <map>

#include "lib/api/builtin_resources.h"
#include "lib/api/names.h"
#include "lib/telemetry/self_metrics.h"
#include "providers/backend_rules.h"
#include "providers/exec/command_output.h"
#include "providers/exec/exec_call.h"
#include "providers/exec/stdin_document.h"

namespace sma::providers::exec {
namespace {

std::string what_failed(const config::ResolvedRule& rule) { return "the command of the " + rule.origin; }

std::optional<std::int64_t> window_of(const config::ResolvedRule& rule) {
  if (rule.rule != nullptr && rule.rule->window) return rule.rule->window->count();
  return std::nullopt;  // the command did not say over what time its value is
}

std::string percent_encoded(const std::string& text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
        c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0x0f];
    }
  }
  return out;
}

}  // namespace

ExecProvider::ExecProvider(std::shared_ptr<const config::ConfigSource> config, Transport transport, PodLister pods,
                           KindLookup kinds, bool kubernetes, std::function<api::Clock::time_point()> now)
    : config_(std::move(config)),
      transport_(std::move(transport)),
      pods_(std::move(pods)),
      kinds_(std::move(kinds)),
      kubernetes_(kubernetes),
      now_(std::move(now)) {}

const config::ExecSpec& ExecProvider::spec_of(const config::ResolvedRule& rule) const {
  if (rule.rule == nullptr || !rule.rule->exec) {
    throw MetricsError(MetricsError::Kind::Internal, "the " + rule.origin + " has no exec command");
  }
  const auto& spec = *rule.rule->exec;
  if (spec.object_input && !kubernetes_) {
    throw MetricsError(MetricsError::Kind::Unavailable,
                       "the " + rule.origin + " sends the described object (input: object), which needs the Kubernetes "
                       "API: run in a cluster or pass --kubeconfig");
  }
  return spec;
}

std::string ExecProvider::object_path(const api::GroupResource& resource, const std::string& namespace_,
                                      const std::string& name) const {
  std::optional<api::ResourceKind> kind = api::builtin_resource_kind(resource);
  if (!kind && kinds_) kind = kinds_(resource);
  if (!kind || kind->api_version.empty()) return {};
  std::string version = kind->api_version;
  if (!version.empty() && version.front() == '/') version.erase(0, 1);
  std::string path = version.find('/') == std::string::npos ? "/api/" + version : "/apis/" + version;
  if (kind->namespaced && !namespace_.empty()) path += "/namespaces/" + namespace_;
  path += "/" + resource.resource;
  if (!name.empty()) path += "/" + name;
  return path;
}

std::string ExecProvider::run(const config::ResolvedRule& rule, const http::OutgoingRequest& request) const {
  http::FetchResult result;
  try {
    result = transport_(request);
  } catch (const http::FetchError& e) {
    using Kind = http::FetchError::Kind;
    auto kind = e.kind() == Kind::BodyTooLarge ? MetricsError::Kind::Internal
                : e.kind() == Kind::Timeout && request.deadline.expired() ? MetricsError::Kind::Timeout
                                                                          : MetricsError::Kind::Unavailable;
    throw MetricsError(kind, what_failed(rule) + ": " + e.what());
  }
  if (result.status != 200) {
    throw MetricsError(MetricsError::Kind::Unavailable, what_failed(rule) + ": " + std::string(result.text()));
  }
  return std::string(result.text());
}

api::MetricValue ExecProvider::get_metric_by_name(const ObjectQuery& q) {
  const auto config = config_->get();
  const auto rule = custom_rule_or_not_found(*config, q.metric, q.resource);
  const auto& spec = spec_of(rule);
  std::string path;
  if (spec.object_input) {
    if (api::check_object_name(q.name)) {
      throw MetricsError(MetricsError::Kind::BadRequest, "the " + rule.origin + " reads the described object (input: object), "
                                                         "which needs a Kubernetes object name, not " + q.name);
    }
    path = object_path(q.resource, q.namespace_, q.name);
    if (path.empty()) {
      throw MetricsError(MetricsError::Kind::Unavailable, "the " + rule.origin + " reads the described object (input: "
                                                          "object), but the Kubernetes API does not know " +
                                                              q.resource.to_string());
    }
  }
  auto out = run(rule, exec_request(rule, spec, object_document(q, rule_location(rule)), q.deadline, path));
  std::optional<api::Quantity> value;
  try {
    value = parse_object_output(out);
  } catch (const OutputError& e) {
    telemetry::SelfMetrics::instance().exec_output_rejected(rule_location(rule));
    throw MetricsError(MetricsError::Kind::Internal, what_failed(rule) + " printed what is not a value: " + e.what());
  }
  if (!value) value = rule.absent_as;
  if (!value) {
    throw MetricsError(MetricsError::Kind::NotFound, "the server could not find the metric " + q.metric + " for " +
                                                         q.resource.to_string() + " " + q.name + ": " + what_failed(rule) +
                                                         " printed no value");
  }
  return {describe_object(kinds_, q.resource, q.namespace_, q.name), q.metric, now_(), window_of(rule), *value};
}

std::vector<api::MetricValue> ExecProvider::get_metric_by_selector(const SelectorQuery& q) {
  const auto config = config_->get();
  const auto rule = custom_rule_or_not_found(*config, q.metric, q.resource);
  const auto& spec = spec_of(rule);
  const bool is_pods = q.resource == api::GroupResource{"pods", ""};
  std::vector<std::string> wanted;
  std::string list_path;
  if (!q.object_selector.empty()) {
    if (!is_pods) {
      throw MetricsError(MetricsError::Kind::BadRequest, "labelSelector is supported for pods only; address " +
                                                             q.resource.to_string() + " by name instead of \"*\"");
    }
    if (!pods_) {
      throw MetricsError(MetricsError::Kind::Unavailable,
                         "selecting pods by label needs the Kubernetes API: run in a cluster or pass --kubeconfig");
    }
    wanted = pods_(q.namespace_, q.object_selector, q.deadline);
    if (wanted.empty()) return {};  // no pod selected: nothing to ask
    if (spec.object_input) {
      list_path = object_path(q.resource, q.namespace_, "") + "?labelSelector=" + percent_encoded(q.object_selector.to_string());
    }
  } else if (spec.object_input) {
    list_path = object_path(q.resource, q.namespace_, "");
  }
  auto out = run(rule, exec_request(rule, spec, selector_document(q, wanted, rule_location(rule)), q.deadline, {}, list_path));
  std::vector<NamedValue> values;
  try {
    values = parse_selector_output(out);
  } catch (const OutputError& e) {
    telemetry::SelfMetrics::instance().exec_output_rejected(rule_location(rule));
    throw MetricsError(MetricsError::Kind::Internal, what_failed(rule) + " printed what is not a list of values: " + e.what());
  }
  // Only the selected objects (the command may know more); sorted by name, as other backends answer.
  std::map<std::string, api::Quantity> chosen;
  for (auto& v : values) {
    if (wanted.empty() || std::binary_search(wanted.begin(), wanted.end(), v.name)) chosen.emplace(v.name, v.value);
  }
  if (rule.absent_as) {
    for (const auto& name : wanted) chosen.try_emplace(name, *rule.absent_as);
  }
  std::vector<api::MetricValue> items;
  const auto now = now_();
  for (auto& [name, value] : chosen) {
    items.push_back({describe_object(kinds_, q.resource, q.namespace_, name), q.metric, now, window_of(rule), value});
  }
  return items;
}

std::vector<api::ExternalMetricValue> ExecProvider::get_external_metric(const ExternalQuery& q) {
  const auto config = config_->get();
  const auto rule = external_rule_or_not_found(*config, q.metric);
  const auto& spec = spec_of(rule);
  auto out = run(rule, exec_request(rule, spec, external_document(q, rule_location(rule)), q.deadline));
  std::vector<LabelledValue> values;
  try {
    values = parse_external_output(out);
  } catch (const OutputError& e) {
    telemetry::SelfMetrics::instance().exec_output_rejected(rule_location(rule));
    throw MetricsError(MetricsError::Kind::Internal, what_failed(rule) + " printed what is not a list of values: " + e.what());
  }
  std::vector<api::ExternalMetricValue> items;
  const auto now = now_();
  for (auto& v : values) {
    // The request's selector chooses series; a command that ignores it is held to it here.
    if (!q.metric_selector.matches(v.labels)) continue;
    items.push_back({q.metric, std::move(v.labels), now, window_of(rule), v.value});
  }
  if (items.empty() && rule.absent_as) items.push_back({q.metric, {}, now, window_of(rule), *rule.absent_as});
  return items;
}

std::vector<api::CustomMetricInfo> ExecProvider::list_custom_metrics() {
  const auto config = config_->get();
  return custom_metric_infos(*config, config->promql_labels, "exec", {});
}

std::vector<api::ExternalMetricInfo> ExecProvider::list_external_metrics() {
  const auto config = config_->get();
  return external_metric_infos(*config, "exec", {});
}

}  // namespace sma::providers::exec
