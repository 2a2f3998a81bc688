// The OpenAPI documents' structure: what the kube-aggregator's downloaders and kubectl read.
#include <rapidjson/document.h>

#include <catch2/catch.hpp>
#include <regex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "lib/api/openapi_document.h"
#include "lib/api/openapi_operations.h"

using namespace sma::api;

namespace {

rapidjson::Document parse(const std::string& json) {
  rapidjson::Document d;
  d.Parse(json.data(), json.size());
  REQUIRE_FALSE(d.HasParseError());
  REQUIRE(d.IsObject());
  return d;
}

// Every "$ref" value anywhere below `v`.
void collect_refs(const rapidjson::Value& v, std::set<std::string>& refs) {
  if (v.IsObject()) {
    for (const auto& m : v.GetObject()) {
      if (std::string(m.name.GetString()) == "$ref" && m.value.IsString()) refs.insert(m.value.GetString());
      collect_refs(m.value, refs);
    }
  } else if (v.IsArray()) {
    for (const auto& item : v.GetArray()) collect_refs(item, refs);
  }
}

// Every object below `v` that has member `name`, by the path to it.
void find_objects_with(const rapidjson::Value& v, const char* name, const std::string& where,
                       std::vector<std::pair<std::string, const rapidjson::Value*>>& found) {
  if (v.IsObject()) {
    if (v.HasMember(name)) found.emplace_back(where, &v);
    for (const auto& m : v.GetObject()) find_objects_with(m.value, name, where + "/" + m.name.GetString(), found);
  } else if (v.IsArray()) {
    for (const auto& item : v.GetArray()) find_objects_with(item, name, where + "[]", found);
  }
}

std::set<std::string> template_parameters(const std::string& path) {
  std::set<std::string> names;
  static const std::regex braces(R"(\{([^}]+)\})");
  for (auto it = std::sregex_iterator(path.begin(), path.end(), braces); it != std::sregex_iterator(); ++it) {
    names.insert((*it)[1]);
  }
  return names;
}

// Each path's get operation declares exactly the parameters its template names, operation ids are
// unique, and there are 200 and default answers.
void check_paths(const rapidjson::Value& paths, std::set<std::string>& operation_ids) {
  for (const auto& path : paths.GetObject()) {
    const std::string template_text = path.name.GetString();
    INFO(template_text);
    REQUIRE(path.value.HasMember("get"));
    const auto& get = path.value["get"];
    CHECK(operation_ids.insert(get["operationId"].GetString()).second);
    std::set<std::string> declared;
    if (get.HasMember("parameters")) {
      for (const auto& p : get["parameters"].GetArray()) {
        if (std::string(p["in"].GetString()) == "path") {
          declared.insert(p["name"].GetString());
          CHECK(p["required"].GetBool());
        }
      }
    }
    CHECK(declared == template_parameters(template_text));
    CHECK(get["responses"].HasMember("200"));
    CHECK(get["responses"].HasMember("default"));
  }
}

}  // namespace

TEST_CASE("the Swagger 2.0 document describes every path and resolves every reference", "[openapi]") {
  auto doc = parse(write_openapi_v2("1.2.3"));
  CHECK(std::string(doc["swagger"].GetString()) == "2.0");
  CHECK(std::string(doc["info"]["version"].GetString()) == "1.2.3");
  const auto& paths = doc["paths"];
  CHECK(paths.MemberCount() == openapi_operations().size());
  for (auto path : {"/apis/", "/apis/custom.metrics.k8s.io/", "/apis/custom.metrics.k8s.io/v1beta1/",
                    "/apis/custom.metrics.k8s.io/v1beta2/namespaces/{namespace}/{resource}/{name}/{metric}",
                    "/apis/custom.metrics.k8s.io/v1beta1/{resource}/{name}/{metric}",
                    "/apis/custom.metrics.k8s.io/v1beta2/namespaces/{namespace}/metrics/{metric}",
                    "/apis/external.metrics.k8s.io/v1beta1/namespaces/{namespace}/{metric}"}) {
    INFO(path);
    CHECK(paths.HasMember(path));
  }
  std::set<std::string> ids;
  check_paths(paths, ids);
  CHECK(ids.count("listCustomMetricsV1beta2NamespacedMetricValue") == 1);
  CHECK(ids.count("listExternalMetricsV1beta1NamespacedExternalMetricValue") == 1);

  const auto& get = paths["/apis/custom.metrics.k8s.io/v1beta2/namespaces/{namespace}/{resource}/{name}/{metric}"]["get"];
  CHECK(std::string(get["responses"]["200"]["schema"]["$ref"].GetString()) ==
        "#/definitions/io.k8s.metrics.pkg.apis.custom_metrics.v1beta2.MetricValueList");
  CHECK(std::string(get["x-kubernetes-group-version-kind"]["kind"].GetString()) == "MetricValueList");
  CHECK(std::string(get["parameters"][0]["type"].GetString()) == "string");

  std::set<std::string> refs;
  collect_refs(doc, refs);
  const auto& definitions = doc["definitions"];
  for (const auto& ref : refs) {
    INFO(ref);
    REQUIRE(ref.rfind("#/definitions/", 0) == 0);
    CHECK(definitions.HasMember(ref.substr(14).c_str()));
  }
  const auto& list = definitions["io.k8s.metrics.pkg.apis.custom_metrics.v1beta2.MetricValueList"];
  CHECK(std::string(list["x-kubernetes-group-version-kind"][0]["version"].GetString()) == "v1beta2");
  // A described $ref stands beside its description in Swagger 2.0, as in Kubernetes' own document.
  const auto& described = definitions["io.k8s.metrics.pkg.apis.custom_metrics.v1beta2.MetricValue"]["properties"]
                                     ["describedObject"];
  CHECK(described.HasMember("$ref"));
  CHECK(described.HasMember("description"));
  CHECK_FALSE(definitions["io.k8s.apimachinery.pkg.api.resource.Quantity"].HasMember("oneOf"));  // no oneOf in 2.0
  CHECK(doc["securityDefinitions"].HasMember("BearerToken"));

  // Swagger 2.0 schemas know none of OpenAPI 3.0's keywords (the aggregator's gnostic parser and
  // the Swagger 2.0 JSON schema refuse them).
  for (const char* v3_only : {"nullable", "oneOf", "anyOf", "allOf", "components"}) {
    std::vector<std::pair<std::string, const rapidjson::Value*>> found;
    find_objects_with(doc, v3_only, "", found);
    INFO(v3_only << " at " << (found.empty() ? "" : found.front().first));
    CHECK(found.empty());
  }
}

TEST_CASE("OpenAPI v3 documents: one per group and group version, each self-contained", "[openapi]") {
  const std::vector<std::string> expected = {"apis/custom.metrics.k8s.io", "apis/custom.metrics.k8s.io/v1beta1",
                                             "apis/custom.metrics.k8s.io/v1beta2", "apis/external.metrics.k8s.io",
                                             "apis/external.metrics.k8s.io/v1beta1"};
  CHECK(openapi_v3_documents() == expected);
  std::set<std::string> all_ids;
  for (const auto& name : openapi_v3_documents()) {
    INFO(name);
    auto doc = parse(write_openapi_v3(name, "1.2.3"));
    CHECK(std::string(doc["openapi"].GetString()) == "3.0.0");
    for (const auto& path : doc["paths"].GetObject()) {
      const std::string p = path.name.GetString();
      // Only this document's own paths: /apis/<group>/ for a group, /apis/<group>/<version>/... else.
      CHECK(p.rfind("/" + name + "/", 0) == 0);
      if (name.find('/', 5) == std::string::npos) CHECK(p == "/" + name + "/");
    }
    std::set<std::string> ids;
    check_paths(doc["paths"], ids);
    all_ids.insert(ids.begin(), ids.end());
    std::set<std::string> refs;
    collect_refs(doc, refs);
    const auto& schemas = doc["components"]["schemas"];
    for (const auto& ref : refs) {
      INFO(ref);
      REQUIRE(ref.rfind("#/components/schemas/", 0) == 0);
      CHECK(schemas.HasMember(ref.substr(21).c_str()));
    }
    CHECK(schemas.HasMember("io.k8s.apimachinery.pkg.apis.meta.v1.Status"));
    CHECK_FALSE(doc.HasMember("definitions"));
    // OpenAPI 3.0.3: nullable means something only beside a type.
    std::vector<std::pair<std::string, const rapidjson::Value*>> nullable;
    find_objects_with(doc, "nullable", "", nullable);
    for (const auto& [where, schema] : nullable) {
      INFO(where);
      CHECK(schema->HasMember("type"));
    }
  }
  CHECK(all_ids.size() + 1 == openapi_operations().size());  // all but /apis/
  CHECK(write_openapi_v3("apis", "1.2.3").empty());
  CHECK(write_openapi_v3("apis/apps/v1", "1.2.3").empty());

  auto v1beta2 = parse(write_openapi_v3("apis/custom.metrics.k8s.io/v1beta2", "1.2.3"));
  const auto& schemas = v1beta2["components"]["schemas"];
  CHECK_FALSE(schemas.HasMember("io.k8s.metrics.pkg.apis.custom_metrics.v1beta1.MetricValueList"));
  CHECK_FALSE(schemas.HasMember("io.k8s.metrics.pkg.apis.external_metrics.v1beta1.ExternalMetricValueList"));
  // OpenAPI 3.0 ignores a $ref's siblings: a described reference is wrapped in allOf.
  const auto& described = schemas["io.k8s.metrics.pkg.apis.custom_metrics.v1beta2.MetricValue"]["properties"]
                                 ["describedObject"];
  CHECK_FALSE(described.HasMember("$ref"));
  CHECK(std::string(described["allOf"][0]["$ref"].GetString()) ==
        "#/components/schemas/io.k8s.api.core.v1.ObjectReference");
  const auto& selector = schemas["io.k8s.metrics.pkg.apis.custom_metrics.v1beta2.MetricIdentifier"]["properties"]
                                ["selector"];
  CHECK(selector["nullable"].GetBool());
  CHECK(schemas["io.k8s.apimachinery.pkg.api.resource.Quantity"]["oneOf"].Size() == 2);
  const auto& ok = v1beta2["paths"]["/apis/custom.metrics.k8s.io/v1beta2/{resource}/{name}/{metric}"]["get"]
                          ["responses"]["200"];
  CHECK(ok["content"]["application/json"]["schema"].HasMember("$ref"));
}

TEST_CASE("the OpenAPI v3 discovery document points at each document with its hash", "[openapi]") {
  CHECK(write_openapi_v3_discovery({{"apis/b/v1", "BB"}, {"apis/a", "A1"}}) ==
        R"({"paths":{"apis/a":{"serverRelativeURL":"/openapi/v3/apis/a?hash=A1"},)"
        R"("apis/b/v1":{"serverRelativeURL":"/openapi/v3/apis/b/v1?hash=BB"}}})");
  CHECK(write_openapi_v3_discovery({}) == R"({"paths":{}})");
}
