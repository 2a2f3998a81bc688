// The shapes the adapter answers, as OpenAPI schemas: one definition per Kubernetes type it writes
// (MetricValueList and MetricValue of custom.metrics.k8s.io v1beta1 and v1beta2,
// ExternalMetricValueList, Status, the discovery documents and what they hold), named as
// Kubernetes' generated specs name them ("io.k8s.metrics.pkg.apis.custom_metrics.v1beta2.MetricValue",
// the Go package path reversed) and carrying x-kubernetes-group-version-kind where Kubernetes
// registers the type as a kind.
//
// Each definition lists exactly the fields the JSON writers of api_json.cpp produce, no more: the
// adapter's answers and its OpenAPI documents describe one thing (test/integration checks a live
// answer against them). Where a Kubernetes type has fields the adapter never writes (a MetricValue's
// own kind and apiVersion, ObjectReference's uid, Status's details) they are left out.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace sma::api {

struct GroupVersionKind {
  std::string group;  // "" for the core group
  std::string version;
  std::string kind;
};

struct OpenApiProperty;

// A JSON schema in the subset both Swagger 2.0 and OpenAPI 3.0 understand; the document writers
// render the few differences ($ref prefixes, a described $ref, Quantity's v3 oneOf).
struct OpenApiSchema {
  std::string description;
  std::string type;    // "object", "string", "integer", "boolean", "array"; empty with `ref`
  std::string format;  // "int32", "int64", "date-time", or empty
  std::string ref;     // the name of another definition
  std::vector<OpenApiProperty> properties;  // written sorted by name, as Go does
  std::vector<std::string> required;
  std::shared_ptr<const OpenApiSchema> items;                  // arrays
  std::shared_ptr<const OpenApiSchema> additional_properties;  // maps (string to string)
  std::vector<std::string> v3_one_of;  // v3 writes oneOf these types instead of `type` (Quantity)
  bool nullable = false;               // written as null when absent (v3 `nullable`)
  std::string list_type;               // x-kubernetes-list-type
  std::string map_type;                // x-kubernetes-map-type
  std::vector<GroupVersionKind> group_version_kinds;  // x-kubernetes-group-version-kind
};

struct OpenApiProperty {
  std::string name;
  OpenApiSchema schema;
};

struct OpenApiDefinition {
  std::string name;
  OpenApiSchema schema;
};

// Definition names used by the operations.
inline constexpr const char* kMetricValueListV1Beta1 = "io.k8s.metrics.pkg.apis.custom_metrics.v1beta1.MetricValueList";
inline constexpr const char* kMetricValueListV1Beta2 = "io.k8s.metrics.pkg.apis.custom_metrics.v1beta2.MetricValueList";
inline constexpr const char* kExternalMetricValueList =
    "io.k8s.metrics.pkg.apis.external_metrics.v1beta1.ExternalMetricValueList";
inline constexpr const char* kStatusDefinition = "io.k8s.apimachinery.pkg.apis.meta.v1.Status";
inline constexpr const char* kApiGroupListDefinition = "io.k8s.apimachinery.pkg.apis.meta.v1.APIGroupList";
inline constexpr const char* kApiGroupDefinition = "io.k8s.apimachinery.pkg.apis.meta.v1.APIGroup";
inline constexpr const char* kApiResourceListDefinition = "io.k8s.apimachinery.pkg.apis.meta.v1.APIResourceList";

// Every definition, sorted by name. Built once; every $ref names one of them.
const std::vector<OpenApiDefinition>& openapi_definitions();

// The definition called `name`, or null.
const OpenApiDefinition* find_openapi_definition(const std::string& name);

}  // namespace sma::api
