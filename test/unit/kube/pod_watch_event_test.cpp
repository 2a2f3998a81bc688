#include "lib/kube/pod_watch_event.h"

#include <catch2/catch.hpp>

using sma::kube::KubeError;
using sma::kube::parse_pod_watch_event;
using sma::kube::PodWatchEvent;

TEST_CASE("watch events give the type, the pod and its resourceVersion", "[pod_watch_event]") {
  const auto added = parse_pod_watch_event(
      R"({"type":"ADDED","object":{"kind":"Pod","metadata":{"name":"web-1","resourceVersion":"77",)"
      R"("labels":{"app":"web"}},"status":{"phase":"Running"}}})");
  CHECK(added.type == PodWatchEvent::Type::Added);
  CHECK(added.pod.info.name == "web-1");
  CHECK(added.pod.info.labels.at("app") == "web");
  CHECK(added.pod.resource_version == "77");
  CHECK_FALSE(added.pod.finished);

  const auto finished = parse_pod_watch_event(
      R"({"type":"MODIFIED","object":{"metadata":{"name":"job-1","resourceVersion":"78"},"status":{"phase":"Failed"}}})");
  CHECK(finished.type == PodWatchEvent::Type::Modified);
  CHECK(finished.pod.finished);

  const auto deleted =
      parse_pod_watch_event(R"({"type":"DELETED","object":{"metadata":{"name":"web-1","resourceVersion":"79"}}})");
  CHECK(deleted.type == PodWatchEvent::Type::Deleted);

  const auto bookmark =
      parse_pod_watch_event(R"({"type":"BOOKMARK","object":{"kind":"Pod","metadata":{"resourceVersion":"80"}}})");
  CHECK(bookmark.type == PodWatchEvent::Type::Bookmark);
  CHECK(bookmark.pod.resource_version == "80");

  const auto gone = parse_pod_watch_event(
      R"({"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired","message":"too old resource version: 5"}})");
  CHECK(gone.type == PodWatchEvent::Type::Error);
  CHECK(gone.error_code == 410);
  CHECK(gone.error_message == "too old resource version: 5");
}

TEST_CASE("watch lines that are not what the API documents are Invalid", "[pod_watch_event]") {
  const char* bad[] = {
      "",
      "not json",
      "[]",
      R"({"object":{}})",
      R"({"type":"ADDED"})",
      R"({"type":"RENAMED","object":{"metadata":{"name":"a","resourceVersion":"1"}}})",
      R"({"type":"ADDED","object":{"metadata":{"resourceVersion":"1"}}})",
      R"({"type":"ADDED","object":{"metadata":{"name":"a"}}})",
      R"({"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"1","labels":{"x":1}}}})",
      R"({"type":"BOOKMARK","object":{"metadata":{}}})",
      R"({"type":"ERROR","object":{"message":"no code"}})",
  };
  for (const char* line : bad) {
    INFO(line);
    try {
      parse_pod_watch_event(line);
      FAIL("accepted");
    } catch (const KubeError& error) {
      CHECK(error.kind() == KubeError::Kind::Invalid);
      CHECK_THAT(error.what(), Catch::Contains("watch event"));
    }
  }
}
