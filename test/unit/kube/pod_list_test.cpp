#include "lib/kube/pod_list.h"

#include <catch2/catch.hpp>

using sma::kube::KubeError;
using sma::kube::parse_pod_list;

TEST_CASE("a PodList page gives names, labels and the continue token", "[pod_list]") {
  const auto page = parse_pod_list(R"({"kind":"PodList","apiVersion":"v1",
    "metadata":{"resourceVersion":"9","continue":"eyJ2IjoibWV0YSJ9"},
    "items":[
      {"metadata":{"name":"a","namespace":"default","labels":{"app":"kuard","tier":"web"}},"status":{"phase":"Running"}},
      {"metadata":{"name":"b"},"status":{"phase":"Pending"}},
      {"metadata":{"name":"done","labels":{"app":"kuard"}},"status":{"phase":"Succeeded"}},
      {"metadata":{"name":"crashed"},"status":{"phase":"Failed"}},
      {"metadata":{"name":"no-status","labels":null}}
    ]})");
  REQUIRE(page.pods.size() == 3);
  CHECK(page.pods[0].name == "a");
  CHECK(page.pods[0].labels == sma::api::Labels{{"app", "kuard"}, {"tier", "web"}});
  CHECK(page.pods[1].name == "b");
  CHECK(page.pods[1].labels.empty());
  CHECK(page.pods[2].name == "no-status");
  CHECK(page.continue_token == "eyJ2IjoibWV0YSJ9");
}

TEST_CASE("empty lists come as [] or null", "[pod_list]") {
  CHECK(parse_pod_list(R"({"kind":"PodList","metadata":{},"items":[]})").pods.empty());
  CHECK(parse_pod_list(R"({"kind":"PodList","metadata":{},"items":null})").pods.empty());
}

TEST_CASE("bodies that are not a PodList are Invalid with a reason", "[pod_list]") {
  const std::pair<const char*, const char*> cases[] = {
      {"<html>", "not JSON"},
      {"[]", "not a JSON object"},
      {R"({"kind":"Status","items":[]})", "kind is not PodList"},
      {R"({"kind":"PodList"})", "no items"},
      {R"({"items":{}})", "items is not an array"},
      {R"({"items":[{"metadata":{}}]})", "items[0].metadata.name"},
      {R"({"items":[{"status":{}}]})", "items[0] has no metadata"},
      {R"({"items":[{"metadata":{"name":"a","labels":{"x":1}}}]})", "labels.x is not a string"},
      {R"({"items":[{"metadata":{"name":"a","labels":[]}}]})", "labels is not an object"},
  };
  for (const auto& [body, reason] : cases) {
    INFO(body);
    try {
      parse_pod_list(body);
      FAIL("accepted");
    } catch (const KubeError& error) {
      CHECK(error.kind() == KubeError::Kind::Invalid);
      CHECK_THAT(error.what(), Catch::Contains(reason));
    }
  }
}
