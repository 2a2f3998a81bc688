// The OpenAPI definitions describe exactly what the JSON writers write: every document the writers
// produce is walked against its definition, and every field of every definition must have been
// seen in those samples, while no sample may hold a field its definition lacks.
#include <rapidjson/document.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <set>

#include "lib/api/api_json.h"
#include "lib/api/builtin_resources.h"
#include "lib/api/openapi_definitions.h"
#include "lib/api/openapi_operations.h"

using namespace sma::api;

namespace {

// What the samples showed of each definition: the property names seen.
using Seen = std::map<std::string, std::set<std::string>>;

std::string kind_of(const rapidjson::Value& v) {
  if (v.IsNull()) return "null";
  if (v.IsString()) return "string";
  if (v.IsBool()) return "boolean";
  if (v.IsInt64()) return "integer";
  if (v.IsArray()) return "array";
  if (v.IsObject()) return "object";
  return "number";
}

void walk(const rapidjson::Value& value, const OpenApiSchema& schema, const std::string& where, Seen& seen) {
  INFO(where);
  if (!schema.ref.empty()) {
    const OpenApiDefinition* definition = find_openapi_definition(schema.ref);
    REQUIRE(definition != nullptr);
    if (value.IsNull()) {
      CHECK(schema.nullable);
      return;
    }
    seen[definition->name];  // visited, even when it has no properties
    if (value.IsObject()) {
      for (const auto& member : value.GetObject()) seen[definition->name].insert(member.name.GetString());
    }
    walk(value, definition->schema, where, seen);
    return;
  }
  CHECK(kind_of(value) == schema.type);
  if (value.IsArray() && schema.items) {
    for (const auto& item : value.GetArray()) walk(item, *schema.items, where + "[]", seen);
  }
  if (!value.IsObject()) return;
  for (const auto& member : value.GetObject()) {
    const std::string name = member.name.GetString();
    if (schema.additional_properties) {
      walk(member.value, *schema.additional_properties, where + "." + name, seen);
      continue;
    }
    auto property = std::find_if(schema.properties.begin(), schema.properties.end(),
                                 [&](const auto& p) { return p.name == name; });
    INFO("field " << name);
    REQUIRE(property != schema.properties.end());  // written, so it must be described
    walk(member.value, property->schema, where + "." + name, seen);
  }
  for (const auto& required : schema.required) {
    INFO("required field " << required);
    CHECK(value.HasMember(required.c_str()));
  }
}

void walk_document(const std::string& json, const char* definition, Seen& seen) {
  rapidjson::Document document;
  document.Parse(json.data(), json.size());
  REQUIRE_FALSE(document.HasParseError());
  OpenApiSchema root;
  root.ref = definition;
  walk(document, root, definition, seen);
}

LabelSelector full_selector() { return LabelSelector::parse("app=web,tier in (a,b),!legacy"); }

MetricValue full_value() {
  MetricValue v;
  v.described_object = described_object({"deployments", "apps"}, "default", "web");
  v.metric_name = "http_requests";
  v.timestamp = Clock::time_point(std::chrono::seconds(1767261600));
  v.window_seconds = 60;
  v.value = *Quantity::parse("1.5");
  return v;
}

ExternalMetricValue full_external_value() {
  ExternalMetricValue v;
  v.metric_name = "queue_depth";
  v.metric_labels = {{"queue", "orders"}};
  v.timestamp = Clock::time_point(std::chrono::seconds(1767261600));
  v.window_seconds = 30;
  v.value = *Quantity::parse("12000");
  return v;
}

// One of each document the writers produce, with every optional field present somewhere.
Seen seen_in_samples() {
  Seen seen;
  const LabelSelector selector = full_selector();
  walk_document(write_metric_value_list(CustomApiVersion::V1Beta1, {full_value()}, &selector),
                kMetricValueListV1Beta1, seen);
  walk_document(write_metric_value_list(CustomApiVersion::V1Beta1, {full_value()}, nullptr), kMetricValueListV1Beta1,
                seen);
  walk_document(write_metric_value_list(CustomApiVersion::V1Beta2, {full_value()}, &selector),
                kMetricValueListV1Beta2, seen);
  walk_document(write_metric_value_list(CustomApiVersion::V1Beta2, {full_value()}, nullptr), kMetricValueListV1Beta2,
                seen);
  walk_document(write_external_metric_value_list({full_external_value()}), kExternalMetricValueList, seen);
  walk_document(write_status({404, "NotFound", "the server could not find the metric"}), kStatusDefinition, seen);
  walk_document(write_api_group_list(), kApiGroupListDefinition, seen);
  walk_document(write_custom_api_group(), kApiGroupDefinition, seen);
  walk_document(write_custom_resource_list(CustomApiVersion::V1Beta2, {{{"pods", ""}, "http_requests", true}}),
                kApiResourceListDefinition, seen);
  walk_document(write_external_resource_list({}), kApiResourceListDefinition, seen);
  return seen;
}

std::vector<std::string> refs_in(const OpenApiSchema& s) {
  std::vector<std::string> refs;
  if (!s.ref.empty()) refs.push_back(s.ref);
  for (const auto& [name, p] : s.properties) {
    for (auto& r : refs_in(p)) refs.push_back(r);
  }
  if (s.items) {
    for (auto& r : refs_in(*s.items)) refs.push_back(r);
  }
  if (s.additional_properties) {
    for (auto& r : refs_in(*s.additional_properties)) refs.push_back(r);
  }
  return refs;
}

}  // namespace

TEST_CASE("OpenAPI definitions are sorted, unique, and every reference resolves", "[openapi]") {
  const auto& all = openapi_definitions();
  REQUIRE_FALSE(all.empty());
  for (std::size_t i = 1; i < all.size(); ++i) CHECK(all[i - 1].name < all[i].name);
  for (const auto& d : all) {
    INFO(d.name);
    for (const auto& ref : refs_in(d.schema)) CHECK(find_openapi_definition(ref) != nullptr);
    for (const auto& required : d.schema.required) {
      CHECK(std::any_of(d.schema.properties.begin(), d.schema.properties.end(),
                        [&](const auto& p) { return p.name == required; }));
    }
  }
  for (const auto& op : openapi_operations()) CHECK(find_openapi_definition(op.response) != nullptr);
  CHECK(find_openapi_definition("io.k8s.nothing.Here") == nullptr);
}

TEST_CASE("OpenAPI definition names and kinds are Kubernetes' own", "[openapi]") {
  auto kinds_of = [](const char* name) {
    const auto* d = find_openapi_definition(name);
    REQUIRE(d != nullptr);
    return d->schema.group_version_kinds;
  };
  auto v1beta2 = kinds_of("io.k8s.metrics.pkg.apis.custom_metrics.v1beta2.MetricValueList");
  REQUIRE(v1beta2.size() == 1);
  CHECK(v1beta2[0].group == "custom.metrics.k8s.io");
  CHECK(v1beta2[0].version == "v1beta2");
  CHECK(v1beta2[0].kind == "MetricValueList");
  CHECK(kinds_of("io.k8s.metrics.pkg.apis.custom_metrics.v1beta1.MetricValue")[0].version == "v1beta1");
  CHECK(kinds_of("io.k8s.metrics.pkg.apis.external_metrics.v1beta1.ExternalMetricValueList")[0].group ==
        "external.metrics.k8s.io");
  auto status = kinds_of("io.k8s.apimachinery.pkg.apis.meta.v1.Status");
  REQUIRE(status.size() == 1);
  CHECK(status[0].group.empty());
  CHECK(status[0].version == "v1");
  CHECK(kinds_of("io.k8s.metrics.pkg.apis.custom_metrics.v1beta2.MetricIdentifier").empty());  // not a kind
  CHECK(kinds_of("io.k8s.api.core.v1.ObjectReference").empty());
}

TEST_CASE("OpenAPI definitions describe exactly the fields the JSON writers write", "[openapi]") {
  const Seen seen = seen_in_samples();
  for (const auto& [name, fields] : seen) {
    const auto* definition = find_openapi_definition(name);
    REQUIRE(definition != nullptr);
    std::set<std::string> described;
    for (const auto& [field, schema] : definition->schema.properties) described.insert(field);
    INFO(name);
    CHECK(fields == described);
  }
  // Every definition was met by some sample: none describes a shape the adapter never writes.
  for (const auto& d : openapi_definitions()) {
    INFO(d.name);
    CHECK(seen.count(d.name) == 1);
  }
}
