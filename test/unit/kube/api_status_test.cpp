#include "lib/kube/api_status.h"

#include <catch2/catch.hpp>

using sma::kube::error_for_status;
using sma::kube::KubeError;
using sma::kube::status_message;

TEST_CASE("the message of a Status body, and nothing from other bodies", "[api_status]") {
  CHECK(
      status_message(
          R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pods is forbidden","reason":"Forbidden","code":403})") ==
      "pods is forbidden");
  CHECK(status_message(R"({"kind":"PodList","message":"x"})").empty());
  CHECK(status_message("<html>").empty());
  CHECK(status_message(R"({"kind":"Status"})").empty());
}

TEST_CASE("statuses map to error kinds", "[api_status]") {
  CHECK(error_for_status(401, "", "GET x", "").kind() == KubeError::Kind::Rejected);
  CHECK(error_for_status(403, "", "GET x", "").kind() == KubeError::Kind::Rejected);
  CHECK(error_for_status(429, "", "GET x", "").kind() == KubeError::Kind::Unavailable);
  CHECK(error_for_status(503, "", "GET x", "").kind() == KubeError::Kind::Unavailable);
  CHECK(error_for_status(404, "", "GET x", "").kind() == KubeError::Kind::Invalid);
  CHECK(error_for_status(302, "", "GET x", "").kind() == KubeError::Kind::Invalid);
  CHECK_THAT(error_for_status(503, R"({"kind":"Status","message":"etcd down"})",
                              "GET https://a/api", " (after 3 attempts)")
                 .what(),
             Catch::Equals("GET https://a/api: HTTP 503: etcd down (after 3 attempts)"));
}
