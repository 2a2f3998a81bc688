// list_pods against scripted answers, for paging cases the API double cannot stage on demand.
#include <atomic>
#include <catch2/catch.hpp>

#include "lib/kube/kube_client.h"
#include "test/unit/http/loopback_http_server.h"
#include "test/unit/http/scoped_environment.h"

using namespace std::chrono_literals;
using sma::http::testing::http_response;
using sma::http::testing::LoopbackHttpServer;
using sma::http::testing::ReceivedRequest;
using sma::http::testing::ServerConnection;
using sma::kube::KubeClient;
using sma::kube::KubeConnection;
using sma::kube::KubeError;

namespace {

std::string pod_list(const std::string& name, const std::string& continue_token) {
  return R"({"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"1")" +
         (continue_token.empty() ? std::string() : R"(,"continue":")" + continue_token + "\"") +
         R"(},"items":[{"metadata":{"name":")" + name +
         R"(","labels":{"app":"a"}},"status":{"phase":"Running"}}]})";
}

KubeConnection plain_connection(const LoopbackHttpServer& server) {
  KubeConnection connection;
  connection.server = server.url("");
  connection.token = "t";
  connection.source = "test";
  return connection;
}

sma::kube::KubeClientOptions quick() {
  sma::kube::KubeClientOptions options;
  options.timeout = 1000ms;
  options.initial_backoff = 1ms;
  return options;
}

}  // namespace

TEST_CASE("an expired continue token restarts the list once", "[kube_client][paging]") {
  sma::http::testing::ScopedEnvironment environment;
  environment.clear_proxies();
  std::atomic<int> calls{0};
  LoopbackHttpServer server([&](const ReceivedRequest& request, ServerConnection& connection) {
    const int call = calls++;
    const bool continued = request.target.find("continue=") != std::string::npos;
    if (call == 1 && continued) {
      connection.write(http_response(
          410,
          R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old","reason":"Expired","code":410})"));
    } else if (!continued) {
      connection.write(http_response(
          200, pod_list(call == 0 ? "stale" : "first", "tok" + std::to_string(call))));
    } else {
      connection.write(http_response(200, pod_list("second", "")));
    }
  });
  KubeClient client(plain_connection(server), quick());

  const auto pods = client.list_pods("default", sma::api::LabelSelector());

  REQUIRE(pods.size() == 2);
  CHECK(pods[0].name == "first");  // the stale first page was dropped
  CHECK(pods[1].name == "second");
  const auto requests = server.requests();
  REQUIRE(requests.size() == 4);
  CHECK(requests[3].target.find("continue=tok2") != std::string::npos);
}

TEST_CASE("a server repeating its continue token is Invalid, not an endless loop",
          "[kube_client][paging]") {
  sma::http::testing::ScopedEnvironment environment;
  environment.clear_proxies();
  LoopbackHttpServer server([](const ReceivedRequest&, ServerConnection& connection) {
    connection.write(http_response(200, pod_list("again", "same-token")));
  });
  KubeClient client(plain_connection(server), quick());

  try {
    client.list_pods("default", sma::api::LabelSelector());
    FAIL("no error");
  } catch (const KubeError& error) {
    CHECK(error.kind() == KubeError::Kind::Invalid);
    CHECK_THAT(error.what(), Catch::Contains("repeated a continue token"));
  }
  CHECK(server.requests().size() == 2);
}

TEST_CASE("continue tokens are form-encoded into the query", "[kube_client][paging]") {
  sma::http::testing::ScopedEnvironment environment;
  environment.clear_proxies();
  std::atomic<int> calls{0};
  LoopbackHttpServer server([&](const ReceivedRequest&, ServerConnection& connection) {
    connection.write(
        http_response(200, pod_list("p" + std::to_string(calls), calls++ == 0 ? "a+b/c=" : "")));
  });
  KubeClient client(plain_connection(server), quick());

  CHECK(client.list_pods("ns", sma::api::LabelSelector::parse("app in (a,b)")).size() == 2);
  const auto requests = server.requests();
  REQUIRE(requests.size() == 2);
  CHECK(requests[0].target ==
        "/api/v1/namespaces/ns/pods?limit=500&labelSelector=app+in+%28a%2Cb%29");
  CHECK(requests[1].target ==
        "/api/v1/namespaces/ns/"
        "pods?limit=500&labelSelector=app+in+%28a%2Cb%29&continue=a%2Bb%2Fc%3D");
  CHECK(requests[0].header("Authorization") == "Bearer t");
  CHECK(requests[0].header("Accept") == "application/json");
}
