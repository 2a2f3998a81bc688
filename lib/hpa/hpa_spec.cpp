#include "lib/hpa/hpa_spec.h"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <limits>

#include "lib/api/label_selector.h"
#include "lib/api/quantity.h"

namespace sma::hpa {
namespace {

// The default policies of defaults.go: scale up by 4 pods or 100% per 15 s (the larger), scale
// down by up to 100% per 15 s; scale-up stabilization 0 s, scale-down from the controller's flag.
ScalingRules default_scale_up() {
  ScalingRules rules;
  rules.stabilization_window_seconds = 0;
  rules.policies = {{ScalingPolicy::Type::Pods, 4, 15}, {ScalingPolicy::Type::Percent, 100, 15}};
  return rules;
}

ScalingRules default_scale_down() {
  ScalingRules rules;
  rules.policies = {{ScalingPolicy::Type::Percent, 100, 15}};
  return rules;
}

std::string scalar(const YAML::Node& node, const std::string& where) {
  if (!node || node.IsNull()) return "";
  if (!node.IsScalar()) throw HpaError(where + " must be a single value");
  return node.Scalar();
}

std::int32_t int32_field(const YAML::Node& node, const std::string& where) {
  std::string text = scalar(node, where);
  long long value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size() ||
      value < std::numeric_limits<std::int32_t>::min() || value > std::numeric_limits<std::int32_t>::max()) {
    throw HpaError(where + " must be a whole number, not \"" + text + "\"");
  }
  return static_cast<std::int32_t>(value);
}

std::int64_t quantity_milli(const YAML::Node& node, const std::string& where, std::string& text) {
  text = scalar(node, where);
  auto quantity = api::Quantity::parse(text);
  auto milli = quantity ? quantity->milli() : std::nullopt;
  if (!milli) throw HpaError(where + " is not a Kubernetes quantity: \"" + text + "\"");
  return *milli;
}

// metav1.LabelSelector -> the selector string LabelSelectorAsSelector gives, checked and canonical.
std::string selector_text(const YAML::Node& node, const std::string& where) {
  if (!node || node.IsNull()) return "";
  if (!node.IsMap()) throw HpaError(where + " must be a label selector (matchLabels, matchExpressions)");
  std::string text;
  auto add = [&text](const std::string& requirement) { text += (text.empty() ? "" : ",") + requirement; };
  if (const auto labels = node["matchLabels"]; labels && !labels.IsNull()) {
    if (!labels.IsMap()) throw HpaError(where + ".matchLabels must be a map");
    for (const auto& entry : labels) add(entry.first.Scalar() + "=" + scalar(entry.second, where + ".matchLabels"));
  }
  if (const auto expressions = node["matchExpressions"]; expressions && !expressions.IsNull()) {
    if (!expressions.IsSequence()) throw HpaError(where + ".matchExpressions must be a list");
    for (std::size_t i = 0; i < expressions.size(); ++i) {
      const auto e = expressions[i];
      const std::string at = where + ".matchExpressions[" + std::to_string(i) + "]";
      std::string key = scalar(e["key"], at + ".key");
      std::string op = scalar(e["operator"], at + ".operator");
      std::string values;
      if (const auto list = e["values"]; list && list.IsSequence()) {
        for (const auto& v : list) values += (values.empty() ? "" : ",") + v.Scalar();
      }
      if (op == "In" || op == "NotIn") {
        if (values.empty()) throw HpaError(at + ": " + op + " needs values");
        add(key + (op == "In" ? " in (" : " notin (") + values + ")");
      } else if (op == "Exists" || op == "DoesNotExist") {
        if (!values.empty()) throw HpaError(at + ": " + op + " takes no values");
        add((op == "Exists" ? "" : "!") + key);
      } else {
        throw HpaError(at + ".operator \"" + op + "\" is not In, NotIn, Exists or DoesNotExist");
      }
    }
  }
  try {
    return api::LabelSelector::parse(text).to_string();
  } catch (const api::SelectorError& e) {
    throw HpaError(where + ": " + e.what());
  }
}

MetricTarget read_target(const YAML::Node& node, const std::string& where, bool allow_utilization) {
  if (!node || !node.IsMap()) throw HpaError(where + " is required");
  MetricTarget target;
  std::string type = scalar(node["type"], where + ".type");
  if (type == "Value") {
    target.type = TargetType::Value;
    target.milli = quantity_milli(node["value"], where + ".value", target.text);
  } else if (type == "AverageValue") {
    target.type = TargetType::AverageValue;
    target.milli = quantity_milli(node["averageValue"], where + ".averageValue", target.text);
  } else if (type == "Utilization" && allow_utilization) {
    target.type = TargetType::Utilization;
    target.utilization = int32_field(node["averageUtilization"], where + ".averageUtilization");
    target.text = std::to_string(target.utilization) + "%";
  } else {
    throw HpaError(where + ".type \"" + type + "\" is not " +
                   (allow_utilization ? "Utilization, Value or AverageValue" : "Value or AverageValue"));
  }
  if (target.type != TargetType::Utilization && target.milli <= 0) {
    throw HpaError(where + " must be greater than zero (the API server refuses " + target.text + ")");
  }
  if (target.type == TargetType::Utilization && target.utilization <= 0) {
    throw HpaError(where + ".averageUtilization must be greater than zero");
  }
  return target;
}

MetricSpec read_metric(const YAML::Node& node, const std::string& where) {
  MetricSpec metric;
  std::string type = scalar(node["type"], where + ".type");
  if (type == "Object") {
    metric.type = MetricType::Object;
    const auto source = node["object"];
    if (!source) throw HpaError(where + ".object is required for type Object");
    const auto described = source["describedObject"];
    metric.described_object = {scalar(described["apiVersion"], where + ".object.describedObject.apiVersion"),
                               scalar(described["kind"], where + ".object.describedObject.kind"),
                               scalar(described["name"], where + ".object.describedObject.name")};
    if (metric.described_object.kind.empty() || metric.described_object.name.empty()) {
      throw HpaError(where + ".object.describedObject needs kind and name");
    }
    metric.name = scalar(source["metric"]["name"], where + ".object.metric.name");
    metric.selector = selector_text(source["metric"]["selector"], where + ".object.metric.selector");
    metric.target = read_target(source["target"], where + ".object.target", false);
  } else if (type == "Pods") {
    metric.type = MetricType::Pods;
    const auto source = node["pods"];
    if (!source) throw HpaError(where + ".pods is required for type Pods");
    metric.name = scalar(source["metric"]["name"], where + ".pods.metric.name");
    metric.selector = selector_text(source["metric"]["selector"], where + ".pods.metric.selector");
    metric.target = read_target(source["target"], where + ".pods.target", false);
    if (metric.target.type != TargetType::AverageValue) {
      throw HpaError(where + ".pods.target.type must be AverageValue");
    }
  } else if (type == "External") {
    metric.type = MetricType::External;
    const auto source = node["external"];
    if (!source) throw HpaError(where + ".external is required for type External");
    metric.name = scalar(source["metric"]["name"], where + ".external.metric.name");
    metric.selector = selector_text(source["metric"]["selector"], where + ".external.metric.selector");
    metric.target = read_target(source["target"], where + ".external.target", false);
  } else if (type == "Resource" || type == "ContainerResource") {
    const bool container = type == "ContainerResource";
    metric.type = container ? MetricType::ContainerResource : MetricType::Resource;
    const std::string field = container ? "containerResource" : "resource";
    const auto source = node[field];
    if (!source) throw HpaError(where + "." + field + " is required for type " + type);
    metric.name = scalar(source["name"], where + "." + field + ".name");
    if (container) metric.container = scalar(source["container"], where + ".containerResource.container");
    if (container && metric.container.empty()) throw HpaError(where + ".containerResource.container is required");
    metric.target = read_target(source["target"], where + "." + field + ".target", true);
    if (metric.target.type == TargetType::Value) {
      throw HpaError(where + "." + field + ".target.type must be Utilization or AverageValue");
    }
  } else {
    throw HpaError(where + ".type \"" + type + "\" is not Object, Pods, Resource, ContainerResource or External");
  }
  if (metric.name.empty()) throw HpaError(where + ": the metric needs a name");
  return metric;
}

ScalingRules read_rules(const YAML::Node& node, ScalingRules rules, const std::string& where) {
  if (!node || node.IsNull()) return rules;
  if (const auto window = node["stabilizationWindowSeconds"]; window && !window.IsNull()) {
    rules.stabilization_window_seconds = int32_field(window, where + ".stabilizationWindowSeconds");
  }
  if (const auto select = node["selectPolicy"]; select && !select.IsNull()) {
    std::string text = scalar(select, where + ".selectPolicy");
    if (text == "Max") {
      rules.select_policy = SelectPolicy::Max;
    } else if (text == "Min") {
      rules.select_policy = SelectPolicy::Min;
    } else if (text == "Disabled") {
      rules.select_policy = SelectPolicy::Disabled;
    } else {
      throw HpaError(where + ".selectPolicy \"" + text + "\" is not Max, Min or Disabled");
    }
  }
  if (const auto policies = node["policies"]; policies && !policies.IsNull()) {
    if (!policies.IsSequence()) throw HpaError(where + ".policies must be a list");
    rules.policies.clear();
    for (std::size_t i = 0; i < policies.size(); ++i) {
      const std::string at = where + ".policies[" + std::to_string(i) + "]";
      ScalingPolicy policy;
      std::string type = scalar(policies[i]["type"], at + ".type");
      if (type == "Pods") {
        policy.type = ScalingPolicy::Type::Pods;
      } else if (type == "Percent") {
        policy.type = ScalingPolicy::Type::Percent;
      } else {
        throw HpaError(at + ".type \"" + type + "\" is not Pods or Percent");
      }
      policy.value = int32_field(policies[i]["value"], at + ".value");
      policy.period_seconds = int32_field(policies[i]["periodSeconds"], at + ".periodSeconds");
      if (policy.value <= 0) throw HpaError(at + ".value must be greater than zero");
      if (policy.period_seconds <= 0 || policy.period_seconds > 1800) {
        throw HpaError(at + ".periodSeconds must be between 1 and 1800");
      }
      rules.policies.push_back(policy);
    }
  }
  if (const auto tolerance = node["tolerance"]; tolerance && !tolerance.IsNull()) {
    std::string text;
    std::int64_t milli = quantity_milli(tolerance, where + ".tolerance", text);
    if (milli < 0) throw HpaError(where + ".tolerance must not be negative");
    auto quantity = api::Quantity::parse(text);
    rules.tolerance = quantity->to_double();
  }
  return rules;
}

HpaSpec read_hpa(const YAML::Node& doc) {
  HpaSpec hpa;
  hpa.api_version = scalar(doc["apiVersion"], "apiVersion");
  if (hpa.api_version == "autoscaling/v1") {
    throw HpaError("autoscaling/v1 HorizontalPodAutoscalers are not supported: read the object as autoscaling/v2 "
                   "(kubectl get hpa NAME -o yaml gives v2 on any current cluster)");
  }
  if (hpa.api_version != "autoscaling/v2" && hpa.api_version != "autoscaling/v2beta2") {
    throw HpaError("apiVersion \"" + hpa.api_version + "\" is not autoscaling/v2 or autoscaling/v2beta2");
  }
  hpa.name = scalar(doc["metadata"]["name"], "metadata.name");
  hpa.namespace_ = scalar(doc["metadata"]["namespace"], "metadata.namespace");
  const auto spec = doc["spec"];
  if (!spec || !spec.IsMap()) throw HpaError("spec is required");
  const auto target = spec["scaleTargetRef"];
  if (!target || !target.IsMap()) throw HpaError("spec.scaleTargetRef is required");
  hpa.scale_target = {scalar(target["apiVersion"], "spec.scaleTargetRef.apiVersion"),
                      scalar(target["kind"], "spec.scaleTargetRef.kind"),
                      scalar(target["name"], "spec.scaleTargetRef.name")};
  if (hpa.scale_target.kind.empty() || hpa.scale_target.name.empty()) {
    throw HpaError("spec.scaleTargetRef needs kind and name");
  }
  if (const auto min = spec["minReplicas"]; min && !min.IsNull()) hpa.min_replicas = int32_field(min, "spec.minReplicas");
  if (!spec["maxReplicas"]) throw HpaError("spec.maxReplicas is required");
  hpa.max_replicas = int32_field(spec["maxReplicas"], "spec.maxReplicas");
  if (hpa.min_replicas < 0) throw HpaError("spec.minReplicas must not be negative");
  if (hpa.max_replicas < 1 || hpa.max_replicas < hpa.min_replicas) {
    throw HpaError("spec.maxReplicas must be at least 1 and at least minReplicas");
  }
  if (const auto metrics = spec["metrics"]; metrics && !metrics.IsNull()) {
    if (!metrics.IsSequence()) throw HpaError("spec.metrics must be a list");
    for (std::size_t i = 0; i < metrics.size(); ++i) {
      hpa.metrics.push_back(read_metric(metrics[i], "spec.metrics[" + std::to_string(i) + "]"));
    }
  }
  if (hpa.metrics.empty()) {
    // SetDefaults_HorizontalPodAutoscaler: no metrics means CPU at 80% of the requests.
    MetricSpec cpu;
    cpu.type = MetricType::Resource;
    cpu.name = "cpu";
    cpu.target = {TargetType::Utilization, 0, 80, "80%"};
    hpa.metrics.push_back(cpu);
  }
  if (const auto behavior = spec["behavior"]; behavior && !behavior.IsNull()) {
    hpa.behavior = Behavior{read_rules(behavior["scaleUp"], default_scale_up(), "spec.behavior.scaleUp"),
                            read_rules(behavior["scaleDown"], default_scale_down(), "spec.behavior.scaleDown")};
  }
  return hpa;
}

bool is_hpa(const YAML::Node& doc) {
  return doc.IsMap() && doc["kind"] && doc["kind"].IsScalar() && doc["kind"].Scalar() == "HorizontalPodAutoscaler";
}

}  // namespace

HpaSpec parse_hpa(const std::string& text) {
  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(text);
  } catch (const YAML::Exception& e) {
    throw HpaError(std::string("not YAML or JSON: ") + e.what());
  }
  try {
    for (const auto& doc : documents) {
      if (is_hpa(doc)) return read_hpa(doc);
      if (doc.IsMap() && doc["items"] && doc["items"].IsSequence()) {
        for (const auto& item : doc["items"]) {
          if (is_hpa(item)) return read_hpa(item);
        }
      }
    }
  } catch (const YAML::Exception& e) {
    throw HpaError(std::string("malformed HorizontalPodAutoscaler: ") + e.what());
  }
  throw HpaError("no HorizontalPodAutoscaler in the document (kind: HorizontalPodAutoscaler)");
}

const char* metric_type_name(MetricType type) {
  switch (type) {
    case MetricType::Object: return "Object";
    case MetricType::Pods: return "Pods";
    case MetricType::Resource: return "Resource";
    case MetricType::ContainerResource: return "ContainerResource";
    case MetricType::External: return "External";
  }
  return "";
}

const char* target_type_name(TargetType type) {
  switch (type) {
    case TargetType::Value: return "Value";
    case TargetType::AverageValue: return "AverageValue";
    case TargetType::Utilization: return "Utilization";
  }
  return "";
}

const char* select_policy_name(SelectPolicy policy) {
  switch (policy) {
    case SelectPolicy::Max: return "Max";
    case SelectPolicy::Min: return "Min";
    case SelectPolicy::Disabled: return "Disabled";
  }
  return "";
}

}  // namespace sma::hpa
