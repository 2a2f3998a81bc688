#include "lib/api/openapi_definitions.h"

#include <algorithm>

namespace sma::api {
namespace {

using Properties = std::vector<OpenApiProperty>;

constexpr const char* kObjectReference = "io.k8s.api.core.v1.ObjectReference";
constexpr const char* kQuantity = "io.k8s.apimachinery.pkg.api.resource.Quantity";
constexpr const char* kTime = "io.k8s.apimachinery.pkg.apis.meta.v1.Time";
constexpr const char* kLabelSelector = "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector";
constexpr const char* kLabelSelectorRequirement = "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelectorRequirement";
constexpr const char* kListMeta = "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta";
constexpr const char* kGroupVersionForDiscovery = "io.k8s.apimachinery.pkg.apis.meta.v1.GroupVersionForDiscovery";
constexpr const char* kApiResource = "io.k8s.apimachinery.pkg.apis.meta.v1.APIResource";
constexpr const char* kMetricValueV1Beta1 = "io.k8s.metrics.pkg.apis.custom_metrics.v1beta1.MetricValue";
constexpr const char* kMetricValueV1Beta2 = "io.k8s.metrics.pkg.apis.custom_metrics.v1beta2.MetricValue";
constexpr const char* kMetricIdentifierV1Beta2 = "io.k8s.metrics.pkg.apis.custom_metrics.v1beta2.MetricIdentifier";
constexpr const char* kExternalMetricValue = "io.k8s.metrics.pkg.apis.external_metrics.v1beta1.ExternalMetricValue";

OpenApiSchema scalar(std::string type, std::string description, std::string format = "") {
  OpenApiSchema s;
  s.type = std::move(type);
  s.description = std::move(description);
  s.format = std::move(format);
  return s;
}

OpenApiSchema text(std::string description) { return scalar("string", std::move(description)); }

OpenApiSchema reference(std::string name, std::string description) {
  OpenApiSchema s;
  s.ref = std::move(name);
  s.description = std::move(description);
  return s;
}

// Lists the adapter writes are replaced whole, never merged item by item.
OpenApiSchema array_of(OpenApiSchema items, std::string description) {
  OpenApiSchema s;
  s.type = "array";
  s.description = std::move(description);
  s.items = std::make_shared<const OpenApiSchema>(std::move(items));
  s.list_type = "atomic";
  return s;
}

OpenApiSchema string_map(std::string description) {
  OpenApiSchema s;
  s.type = "object";
  s.description = std::move(description);
  s.additional_properties = std::make_shared<const OpenApiSchema>(text(""));
  return s;
}

OpenApiSchema object(std::string description, Properties properties, std::vector<std::string> required = {},
                     std::vector<GroupVersionKind> kinds = {}) {
  OpenApiSchema s;
  s.type = "object";
  s.description = std::move(description);
  s.properties = std::move(properties);
  s.required = std::move(required);
  s.group_version_kinds = std::move(kinds);
  return s;
}

OpenApiProperty kind_field() {
  return {"kind", text("The type of this document, in CamelCase.")};
}

OpenApiProperty api_version_field() {
  return {"apiVersion", text("The group/version whose schema this document follows.")};
}

OpenApiProperty list_metadata_field() {
  return {"metadata", reference(kListMeta, "List metadata; always empty here.")};
}

OpenApiSchema nullable_selector() {
  OpenApiSchema s = reference(kLabelSelector,
                              "The request's metricLabelSelector as a label selector, or null when the request "
                              "had none.");
  s.nullable = true;
  return s;
}

const std::string kCustomGroup = "custom.metrics.k8s.io";
const std::string kExternalGroup = "external.metrics.k8s.io";

std::vector<OpenApiDefinition> shared_definitions() {
  std::vector<OpenApiDefinition> d;
  OpenApiSchema object_reference =
      object("The Kubernetes object a metric value describes.",
             {{"apiVersion", text("The object's group/version: /v1 for core objects, apps/v1 for Deployments. Left "
                                  "out when the adapter cannot tell.")},
              {"kind", text("The object's kind, such as Pod or Deployment.")},
              {"name", text("The object's name.")},
              {"namespace", text("The object's namespace; left out for root-scoped objects such as nodes.")}});
  object_reference.map_type = "atomic";
  d.push_back({kObjectReference, std::move(object_reference)});

  OpenApiSchema quantity = text(
      "A decimal quantity in Kubernetes' canonical form: the largest suffix that loses no precision, at most "
      "three decimals written with the milli suffix (0.5 is 500m, 12000 is 12k).");
  quantity.v3_one_of = {"string", "number"};
  d.push_back({kQuantity, std::move(quantity)});

  d.push_back({kTime, scalar("string", "An RFC 3339 time in UTC, to the second.", "date-time")});

  d.push_back({kLabelSelectorRequirement,
               object("One set-based requirement of a label selector.",
                      {{"key", text("The label key.")},
                       {"operator", text("In, NotIn, Exists or DoesNotExist.")},
                       {"values", array_of(text(""), "The values of In and NotIn; left out for Exists and "
                                                     "DoesNotExist.")}},
                      {"key", "operator"})});

  OpenApiSchema selector = object(
      "A label selector: every requirement must hold.",
      {{"matchExpressions", array_of(reference(kLabelSelectorRequirement, ""),
                                     "Set-based requirements (!=, in, notin, exists, does not exist).")},
       {"matchLabels", string_map("Labels that must have exactly these values.")}});
  selector.map_type = "atomic";
  d.push_back({kLabelSelector, std::move(selector)});

  d.push_back({kListMeta, object("List metadata. The adapter's lists are computed per request, neither versioned "
                                 "nor paged, so it is always empty.",
                                 {})});

  d.push_back({kStatusDefinition,
               object("The answer to a request that failed.",
                      {kind_field(),
                       api_version_field(),
                       list_metadata_field(),
                       {"status", text("Failure.")},
                       {"message", text("What went wrong, for a person to act on.")},
                       {"reason", text("The failure in one word: BadRequest, Unauthorized, Forbidden, NotFound, "
                                       "MethodNotAllowed, InternalError, ServiceUnavailable, Timeout, ...")},
                       {"code", scalar("integer", "The HTTP status code.", "int32")}},
                      {}, {{"", "v1", "Status"}})});
  return d;
}

std::vector<OpenApiDefinition> custom_metrics_definitions() {
  std::vector<OpenApiDefinition> d;
  auto window = [](const char* name) {
    return OpenApiProperty{
        name, scalar("integer",
                     "The length in seconds of the window [timestamp - window, timestamp] a rate was computed "
                     "over; left out when the backend does not say.",
                     "int64")};
  };
  const auto described_object = OpenApiProperty{
      "describedObject", reference(kObjectReference, "The object this value describes.")};
  const auto timestamp =
      OpenApiProperty{"timestamp", reference(kTime, "When the value was produced.")};
  const auto value = OpenApiProperty{"value", reference(kQuantity, "The value.")};

  d.push_back({kMetricValueV1Beta1,
               object("A metric's value for one object.",
                      {described_object,
                       {"metricName", text("The metric's name.")},
                       timestamp,
                       window("window"),
                       value,
                       {"selector", nullable_selector()}},
                      {"describedObject", "metricName", "timestamp", "value"},
                      {{kCustomGroup, "v1beta1", "MetricValue"}})});
  d.push_back({kMetricValueListV1Beta1,
               object("A metric's values for the objects a request named or selected.",
                      {kind_field(), api_version_field(), list_metadata_field(),
                       {"items", array_of(reference(kMetricValueV1Beta1, ""), "One value per object.")}},
                      {"items"}, {{kCustomGroup, "v1beta1", "MetricValueList"}})});

  d.push_back({kMetricIdentifierV1Beta2,
               object("A metric, by name and series selector.",
                      {{"name", text("The metric's name.")}, {"selector", nullable_selector()}}, {"name"})});
  d.push_back({kMetricValueV1Beta2,
               object("A metric's value for one object.",
                      {described_object,
                       {"metric", reference(kMetricIdentifierV1Beta2, "The metric this is a value of.")},
                       timestamp,
                       window("windowSeconds"),
                       value},
                      {"describedObject", "metric", "timestamp", "value"},
                      {{kCustomGroup, "v1beta2", "MetricValue"}})});
  d.push_back({kMetricValueListV1Beta2,
               object("A metric's values for the objects a request named or selected.",
                      {kind_field(), api_version_field(), list_metadata_field(),
                       {"items", array_of(reference(kMetricValueV1Beta2, ""), "One value per object.")}},
                      {"items"}, {{kCustomGroup, "v1beta2", "MetricValueList"}})});
  return d;
}

std::vector<OpenApiDefinition> external_metrics_definitions() {
  std::vector<OpenApiDefinition> d;
  d.push_back({kExternalMetricValue,
               object("A metric's value for one series, identified by its labels.",
                      {{"metricName", text("The metric's name.")},
                       {"metricLabels", string_map("The labels that identify the series.")},
                       {"timestamp", reference(kTime, "When the value was produced.")},
                       {"window", scalar("integer",
                                         "The length in seconds of the window [timestamp - window, timestamp] a "
                                         "rate was computed over; left out when the backend does not say.",
                                         "int64")},
                       {"value", reference(kQuantity, "The value.")}},
                      {"metricName", "metricLabels", "timestamp", "value"},
                      {{kExternalGroup, "v1beta1", "ExternalMetricValue"}})});
  d.push_back({kExternalMetricValueList,
               object("A metric's values for the series a request selected.",
                      {kind_field(), api_version_field(), list_metadata_field(),
                       {"items", array_of(reference(kExternalMetricValue, ""), "One value per series.")}},
                      {"items"}, {{kExternalGroup, "v1beta1", "ExternalMetricValueList"}})});
  return d;
}

std::vector<OpenApiDefinition> discovery_definitions() {
  std::vector<OpenApiDefinition> d;
  d.push_back({kGroupVersionForDiscovery,
               object("One version of an API group.",
                      {{"groupVersion", text("group/version, such as custom.metrics.k8s.io/v1beta2.")},
                       {"version", text("The version, such as v1beta2.")}},
                      {"groupVersion", "version"})});
  d.push_back({kApiGroupDefinition,
               object("An API group, its versions and the version clients should prefer.",
                      {kind_field(),
                       api_version_field(),
                       {"name", text("The group's name.")},
                       {"versions", array_of(reference(kGroupVersionForDiscovery, ""), "The versions served.")},
                       {"preferredVersion", reference(kGroupVersionForDiscovery, "The version to prefer.")}},
                      {"name", "versions"}, {{"", "v1", "APIGroup"}})});
  d.push_back({kApiGroupListDefinition,
               object("The API groups this server serves.",
                      {kind_field(), api_version_field(),
                       {"groups", array_of(reference(kApiGroupDefinition, ""), "The groups.")}},
                      {"groups"}, {{"", "v1", "APIGroupList"}})});
  d.push_back({kApiResource,
               object("One metric a group version serves (resource/metric for custom metrics).",
                      {{"name", text("resource/metric (custom.metrics.k8s.io) or the metric (external.metrics.k8s.io); "
                                     "*/* and * stand for any while no metric is known yet.")},
                       {"singularName", text("Always empty.")},
                       {"namespaced", scalar("boolean", "Whether the described objects live in namespaces.")},
                       {"kind", text("MetricValueList or ExternalMetricValueList.")},
                       {"verbs", array_of(text(""), "Always get.")}},
                      {"name", "singularName", "namespaced", "kind", "verbs"})});
  d.push_back({kApiResourceListDefinition,
               object("The metrics one group version serves.",
                      {kind_field(), api_version_field(),
                       {"groupVersion", text("group/version.")},
                       {"resources", array_of(reference(kApiResource, ""), "One entry per metric; never empty.")}},
                      {"groupVersion", "resources"}, {{"", "v1", "APIResourceList"}})});
  return d;
}

std::vector<OpenApiDefinition> build_definitions() {
  std::vector<OpenApiDefinition> all;
  for (auto part : {shared_definitions(), custom_metrics_definitions(), external_metrics_definitions(),
                    discovery_definitions()}) {
    for (auto& definition : part) all.push_back(std::move(definition));
  }
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return all;
}

}  // namespace

const std::vector<OpenApiDefinition>& openapi_definitions() {
  static const std::vector<OpenApiDefinition> definitions = build_definitions();
  return definitions;
}

const OpenApiDefinition* find_openapi_definition(const std::string& name) {
  const auto& all = openapi_definitions();
  auto it = std::lower_bound(all.begin(), all.end(), name, [](const auto& d, const auto& n) { return d.name < n; });
  return it != all.end() && it->name == name ? &*it : nullptr;
}

}  // namespace sma::api
