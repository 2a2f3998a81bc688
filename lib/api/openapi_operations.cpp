#include "lib/api/openapi_operations.h"

#include <algorithm>

#include "lib/api/api_json.h"

namespace sma::api {
namespace {

OpenApiParameter path_parameter(std::string name, std::string description) {
  return {std::move(name), "path", std::move(description), true};
}

OpenApiParameter query_parameter(std::string name, std::string description) {
  return {std::move(name), "query", std::move(description), false};
}

const OpenApiParameter& namespace_parameter() {
  static const OpenApiParameter p = path_parameter("namespace", "The namespace of the described objects.");
  return p;
}

const OpenApiParameter& resource_parameter() {
  static const OpenApiParameter p = path_parameter(
      "resource", "The resource of the described objects, with its group when not core: pods, deployments.apps.");
  return p;
}

const OpenApiParameter& name_parameter() {
  static const OpenApiParameter p =
      path_parameter("name", "The described object's name, or * for every object labelSelector selects.");
  return p;
}

const OpenApiParameter& metric_parameter() {
  static const OpenApiParameter p = path_parameter("metric", "The metric's name.");
  return p;
}

const OpenApiParameter& metric_label_selector_parameter() {
  static const OpenApiParameter p =
      query_parameter("metricLabelSelector", "A label selector on the metric's series labels.");
  return p;
}

const OpenApiParameter& object_label_selector_parameter() {
  static const OpenApiParameter p =
      query_parameter("labelSelector", "With name *: a label selector on the described objects' labels.");
  return p;
}

// "custom.metrics.k8s.io" -> "customMetrics", as the generic API server names tags and operations.
std::string camel_group(std::string_view group) {
  std::string_view stem = group.substr(0, group.find(".k8s.io"));
  std::string out;
  bool upper = false;
  for (char c : stem) {
    if (c == '.' || c == '-') {
      upper = true;
      continue;
    }
    out += upper ? static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c) : c;
    upper = false;
  }
  return out;
}

std::string title(std::string text) {
  if (!text.empty() && text[0] >= 'a' && text[0] <= 'z') text[0] = static_cast<char>(text[0] - 'a' + 'A');
  return text;
}

void add_group_operations(std::vector<OpenApiOperation>& ops, std::string_view group_view,
                          const std::vector<std::string>& versions) {
  const std::string group(group_view);
  const std::string group_name = camel_group(group);
  ops.push_back({"/apis/" + group + "/", "apis/" + group, "get" + title(group_name) + "APIGroup",
                 "get information of a group", group_name, {}, kApiGroupDefinition, std::nullopt});
  for (const auto& version : versions) {
    ops.push_back({"/apis/" + group + "/" + version + "/", "apis/" + group + "/" + version,
                   "get" + title(group_name) + title(version) + "APIResources", "get available resources",
                   group_name + "_" + version, {}, kApiResourceListDefinition, std::nullopt});
  }
}

void add_custom_metric_operations(std::vector<OpenApiOperation>& ops, const std::string& version,
                                  const char* list_definition) {
  const std::string group(kCustomMetricsGroup);
  const std::string prefix = "/apis/" + group + "/" + version + "/";
  const std::string document = "apis/" + group + "/" + version;
  const std::string id_stem = title(camel_group(group)) + title(version);
  const std::string tag = camel_group(group) + "_" + version;
  const GroupVersionKind kind{group, version, "MetricValueList"};
  ops.push_back({prefix + "namespaces/{namespace}/{resource}/{name}/{metric}", document,
                 "list" + id_stem + "NamespacedMetricValue",
                 "read a metric of one namespaced object, or of every object labelSelector selects (name *)", tag,
                 {namespace_parameter(), resource_parameter(), name_parameter(), metric_parameter(),
                  object_label_selector_parameter(), metric_label_selector_parameter()},
                 list_definition, kind});
  ops.push_back({prefix + "{resource}/{name}/{metric}", document, "list" + id_stem + "MetricValue",
                 "read a metric of one root-scoped object (a node, say), or of every object labelSelector selects "
                 "(name *)",
                 tag,
                 {resource_parameter(), name_parameter(), metric_parameter(), object_label_selector_parameter(),
                  metric_label_selector_parameter()},
                 list_definition, kind});
  ops.push_back({prefix + "namespaces/{namespace}/metrics/{metric}", document,
                 "read" + id_stem + "MetricValueForNamespace", "read a metric of the namespace object itself", tag,
                 {namespace_parameter(), metric_parameter(), metric_label_selector_parameter()}, list_definition,
                 kind});
}

void add_external_metric_operations(std::vector<OpenApiOperation>& ops) {
  const std::string group(kExternalMetricsGroup);
  ops.push_back({"/apis/" + group + "/v1beta1/namespaces/{namespace}/{metric}", "apis/" + group + "/v1beta1",
                 "list" + title(camel_group(group)) + "V1beta1NamespacedExternalMetricValue",
                 "read a metric that describes no Kubernetes object, one value per series", camel_group(group) + "_v1beta1",
                 {path_parameter("namespace", "The namespace the metric is scoped to."), metric_parameter(),
                  query_parameter("labelSelector", "A label selector on the metric's series labels.")},
                 kExternalMetricValueList, GroupVersionKind{group, "v1beta1", "ExternalMetricValueList"}});
}

std::vector<OpenApiOperation> build_operations() {
  std::vector<OpenApiOperation> ops;
  ops.push_back({"/apis/", "", "getAPIVersions", "get available API versions", "apis", {}, kApiGroupListDefinition,
                 std::nullopt});
  add_group_operations(ops, kCustomMetricsGroup, {"v1beta1", "v1beta2"});
  add_group_operations(ops, kExternalMetricsGroup, {"v1beta1"});
  add_custom_metric_operations(ops, "v1beta1", kMetricValueListV1Beta1);
  add_custom_metric_operations(ops, "v1beta2", kMetricValueListV1Beta2);
  add_external_metric_operations(ops);
  std::sort(ops.begin(), ops.end(), [](const auto& a, const auto& b) { return a.path < b.path; });
  return ops;
}

}  // namespace

const std::vector<OpenApiOperation>& openapi_operations() {
  static const std::vector<OpenApiOperation> operations = build_operations();
  return operations;
}

const std::vector<std::string>& openapi_v3_documents() {
  static const std::vector<std::string> documents = [] {
    std::vector<std::string> paths;
    for (const auto& op : openapi_operations()) {
      if (!op.v3_document.empty()) paths.push_back(op.v3_document);
    }
    std::sort(paths.begin(), paths.end());
    paths.erase(std::unique(paths.begin(), paths.end()), paths.end());
    return paths;
  }();
  return documents;
}

}  // namespace sma::api
