// The stdin document: its exact shape per query kind, and that hostile names and selectors reach it
// only as JSON strings.
#include <catch2/catch.hpp>

#include <rapidjson/document.h>

#include "providers/exec/stdin_document.h"

using namespace sma;
using namespace sma::providers;

TEST_CASE("object document: the query, both forms of the metric selector, the rule") {
  ObjectQuery q;
  q.namespace_ = "default";
  q.resource = {"deployments", "apps"};
  q.name = "kuard";
  q.metric = "queue_age_seconds";
  q.metric_selector = api::LabelSelector::parse("queue=orders,tier in (a,b)");
  CHECK(exec::object_document(q, "adapter.yaml:12") ==
        R"j({"version":1,"kind":"object","rule":"adapter.yaml:12","metric":"queue_age_seconds","namespace":"default",)j"
        R"j("resource":"deployments.apps","name":"kuard","metricSelector":{"string":"queue=orders,tier in (a,b)",)j"
        R"j("matchLabels":{"queue":"orders"},"matchExpressions":[{"key":"tier","operator":"In","values":["a","b"]}]}})j");
}

TEST_CASE("selector document: the object selector and the selected names") {
  SelectorQuery q;
  q.namespace_ = "default";
  q.resource = {"pods", ""};
  q.object_selector = api::LabelSelector::parse("app=kuard");
  q.metric = "m";
  CHECK(exec::selector_document(q, {"kuard-1", "kuard-2"}, "a.yaml:3") ==
        R"j({"version":1,"kind":"selector","rule":"a.yaml:3","metric":"m","namespace":"default","resource":"pods",)j"
        R"j("labelSelector":{"string":"app=kuard","matchLabels":{"app":"kuard"}},"names":["kuard-1","kuard-2"],)j"
        R"j("metricSelector":{"string":""}})j");
  q.object_selector = {};
  CHECK(exec::selector_document(q, {}, "a.yaml:3").find("\"names\"") == std::string::npos);
}

TEST_CASE("external document") {
  ExternalQuery q;
  q.namespace_ = "payments";
  q.metric = "queue.depth";
  q.metric_selector = api::LabelSelector::parse("queue!=dead");
  CHECK(exec::external_document(q, "a.yaml:9") ==
        R"j({"version":1,"kind":"external","rule":"a.yaml:9","metric":"queue.depth","namespace":"payments",)j"
        R"j("metricSelector":{"string":"queue!=dead","matchExpressions":[{"key":"queue","operator":"NotIn","values":["dead"]}]}})j");
}

TEST_CASE("the completed document adds the deadline, the time left and the object") {
  ExternalQuery q;
  q.namespace_ = "ns";
  q.metric = "m";
  auto doc = exec::external_document(q, "r:1");
  auto when = api::Clock::time_point(std::chrono::milliseconds(1767261600250));
  auto full = exec::completed_document(doc, when, std::chrono::milliseconds(1999), R"j({"kind":"Deployment"})j");
  CHECK_THAT(full, Catch::EndsWith(R"j(,"deadline":"2026-01-01T10:00:00.250Z","timeoutMillis":1999,"object":{"kind":"Deployment"}})j"));
  rapidjson::Document parsed;
  parsed.Parse(full.c_str());
  CHECK_FALSE(parsed.HasParseError());
  CHECK(exec::format_rfc3339_millis(api::Clock::time_point(std::chrono::milliseconds(1767261600007))) ==
        "2026-01-01T10:00:00.007Z");
}

TEST_CASE("hostile text reaches the document only as JSON strings") {
  // Names have passed the router's checks; metric names and selector values cannot hold quotes, but
  // the writer escapes whatever it is given.
  ObjectQuery q;
  q.namespace_ = "ns";
  q.resource = {"services", ""};
  q.name = "a\"b$(rm -rf /);\n`x`";
  q.metric = "m";
  auto doc = exec::object_document(q, "r:1");
  rapidjson::Document parsed;
  parsed.Parse(doc.c_str());
  REQUIRE_FALSE(parsed.HasParseError());
  CHECK(std::string(parsed["name"].GetString()) == q.name);
  CHECK(doc.find('\n') == std::string::npos);
}
