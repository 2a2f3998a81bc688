// KubeClient against test/doubles/kube_api_double.py over real HTTPS on loopback.
#include "lib/kube/kube_client.h"

#include <rapidjson/document.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "test/unit/http/scoped_environment.h"
#include "test/unit/kube/kube_api_double_process.h"
#include "test/unit/kube/scratch_directory.h"

using namespace std::chrono_literals;
using sma::api::LabelSelector;
using sma::http::testing::ScopedEnvironment;
using sma::kube::KubeClient;
using sma::kube::KubeClientOptions;
using sma::kube::KubeConnection;
using sma::kube::KubeError;
using sma::kube::PodInfo;
using sma::kube::testing::KubeApiDoubleProcess;
using sma::kube::testing::ScratchDirectory;

namespace {

using Clock = std::chrono::steady_clock;

KubeConnection connection_to(const KubeApiDoubleProcess& double_process) { return double_process.connection(); }

KubeClientOptions quick_retries(int attempts = 3) {
  KubeClientOptions options;
  options.timeout = 1000ms;
  options.max_attempts = attempts;
  options.initial_backoff = 5ms;
  return options;
}

std::vector<std::string> names(const std::vector<PodInfo>& pods) {
  std::vector<std::string> out;
  for (const auto& pod : pods) out.push_back(pod.name);
  return out;
}

struct Recorded {
  std::string method;
  std::string path;
  std::map<std::string, std::string> query;  // first value of each parameter
  std::string authorization;
};

std::vector<Recorded> recorded(KubeApiDoubleProcess& double_process) {
  rapidjson::Document document;
  const std::string text = double_process.requests();
  document.Parse(text.c_str());
  std::vector<Recorded> out;
  for (const auto& entry : document.GetArray()) {
    Recorded request;
    request.method = entry["method"].GetString();
    request.path = entry["path"].GetString();
    for (const auto& parameter : entry["query"].GetObject()) {
      request.query[parameter.name.GetString()] = parameter.value.GetArray()[0].GetString();
    }
    const auto& headers = entry["headers"];
    if (headers.HasMember("authorization")) {
      request.authorization = headers["authorization"].GetString();
    }
    out.push_back(request);
  }
  return out;
}

KubeError kube_error(const std::function<void()>& call) {
  try {
    call();
  } catch (const KubeError& error) {
    return error;
  }
  FAIL("no KubeError was thrown");
  throw std::logic_error("unreachable");
}

// A List fixture of `count` running pods in `namespace_`, all labelled app=bulk.
std::string bulk_fixture(int count, const std::string& namespace_) {
  std::string items;
  for (int i = 0; i < count; ++i) {
    if (i > 0) items += ",";
    items += R"({"kind":"Pod","metadata":{"name":"bulk-)" + std::to_string(i) +
             R"(","namespace":")" + namespace_ + R"(","labels":{"app":"bulk"}}})";
  }
  return R"({"kind":"List","apiVersion":"v1","items":[)" + items + "]}";
}

}  // namespace

TEST_CASE("list_pods returns the running pods a selector picks in one namespace", "[kube_client]") {
  KubeApiDoubleProcess api;
  KubeClient client(connection_to(api), quick_retries());

  const auto pods = client.list_pods("default", LabelSelector::parse("app=kuard"));

  // kuard-job-x matches too, but it has Succeeded: finished pods have no metrics.
  CHECK(names(pods) == std::vector<std::string>{"kuard-7d4f-1", "kuard-7d4f-2", "kuard-7d4f-3"});
  CHECK(pods[0].labels.at("app") == "kuard");
  CHECK(pods[0].labels.at("tier") == "frontend");
  const auto requests = recorded(api);
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].method == "GET");
  CHECK(requests[0].path == "/api/v1/namespaces/default/pods");
  CHECK(requests[0].query.at("labelSelector") == "app=kuard");
  CHECK(requests[0].query.at("limit") == "500");
  CHECK(requests[0].authorization == std::string("Bearer ") + KubeApiDoubleProcess::kToken);
}

TEST_CASE("list_pods sends the canonical selector form and lists all namespaces without one",
          "[kube_client]") {
  KubeApiDoubleProcess api;
  KubeClient client(connection_to(api), quick_retries());

  const auto set_based =
      client.list_pods("default", LabelSelector::parse("tier,app in (redis, kuard),app!=kuard"));
  CHECK(names(set_based) == std::vector<std::string>{"redis-0", "redis-1"});
  CHECK(names(client.list_pods("payments", LabelSelector::parse("app=kuard"))) ==
        std::vector<std::string>{"kuard-7d4f-1", "kuard-7d4f-2"});
  CHECK(client.list_pods("", LabelSelector()).size() == 9);  // 10 pods, one of them finished
  CHECK(client.list_pods("empty-namespace", LabelSelector()).empty());

  const auto requests = recorded(api);
  REQUIRE(requests.size() == 4);
  CHECK(requests[0].query.at("labelSelector") ==
        LabelSelector::parse("tier,app in (redis, kuard),app!=kuard").to_string());
  CHECK(requests[2].path == "/api/v1/pods");
  CHECK(requests[2].query.count("labelSelector") == 0);
}

TEST_CASE("list_pods follows continue tokens across pages", "[kube_client]") {
  KubeApiDoubleProcess api;
  api.control("POST", "fixture", bulk_fixture(1203, "bulk"));
  KubeClient client(connection_to(api), quick_retries());

  const auto pods = client.list_pods("bulk", LabelSelector::parse("app=bulk"));

  CHECK(pods.size() == 1203);
  const auto requests = recorded(api);
  REQUIRE(requests.size() == 3);
  CHECK(requests[0].query.count("continue") == 0);
  CHECK(!requests[1].query.at("continue").empty());
  CHECK(!requests[2].query.at("continue").empty());
  CHECK(requests[2].query.at("limit") == "500");
}

TEST_CASE("an invalid namespace is refused before any request", "[kube_client]") {
  KubeApiDoubleProcess api;
  KubeClient client(connection_to(api), quick_retries());
  const KubeError error = kube_error([&] { client.list_pods("Bad_Namespace", LabelSelector()); });
  CHECK(error.kind() == KubeError::Kind::Invalid);
  CHECK(recorded(api).empty());
}

TEST_CASE("5xx answers are retried and a later success is returned", "[kube_client][retry]") {
  KubeApiDoubleProcess api;
  api.inject_fault(R"({"status": 503, "count": 2})");
  KubeClient client(connection_to(api), quick_retries(3));

  CHECK(client.list_pods("default", LabelSelector::parse("app=redis")).size() == 2);
  CHECK(recorded(api).size() == 3);
}

TEST_CASE("persistent 5xx becomes Unavailable naming the status, the message and the attempts",
          "[kube_client][retry]") {
  KubeApiDoubleProcess api;
  api.inject_fault(R"({"status": 500})");
  KubeClient client(connection_to(api), quick_retries(3));

  const KubeError error = kube_error([&] { client.list_pods("default", LabelSelector()); });
  CHECK(error.kind() == KubeError::Kind::Unavailable);
  CHECK_THAT(error.what(), Catch::Contains("HTTP 500") &&
                               Catch::Contains("injected fault: HTTP 500") &&
                               Catch::Contains("after 3 attempts") &&
                               Catch::Contains("/api/v1/namespaces/default/pods"));
  CHECK_THAT(error.what(), !Catch::Contains("limit=500"));
  CHECK(recorded(api).size() == 3);
}

TEST_CASE("429 is retried after the Retry-After the server asks for", "[kube_client][retry]") {
  KubeApiDoubleProcess api;
  api.inject_fault(R"({"status": 429, "count": 1, "headers": {"Retry-After": "1"}})");
  KubeClientOptions options = quick_retries(2);
  options.initial_backoff = 1ms;
  KubeClient client(connection_to(api), options);

  const auto started = Clock::now();
  CHECK(client.list_pods("default", LabelSelector::parse("app=redis")).size() == 2);
  CHECK(Clock::now() - started >= 1000ms);
  CHECK(recorded(api).size() == 2);
}

TEST_CASE("401 and 403 are Rejected with a hint and the API's own message", "[kube_client]") {
  KubeApiDoubleProcess api;

  SECTION("a token the API server does not accept") {
    KubeConnection connection = connection_to(api);
    connection.token = "not-the-token";
    KubeClient client(connection, quick_retries());
    const KubeError error = kube_error([&] { client.list_pods("default", LabelSelector()); });
    CHECK(error.kind() == KubeError::Kind::Rejected);
    CHECK_THAT(error.what(),
               Catch::Contains("HTTP 401: Unauthorized") && Catch::Contains("credentials"));
    CHECK_THAT(error.what(), !Catch::Contains("not-the-token"));
    CHECK(recorded(api).size() == 1);  // never retried
  }
  SECTION("a service account without RBAC for pods") {
    api.inject_fault(
        R"({"status": 403, "body": "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\",\"message\":\"pods is forbidden: User \\\"system:serviceaccount:custom-metrics:adapter\\\" cannot list resource \\\"pods\\\"\",\"reason\":\"Forbidden\",\"code\":403}"})");
    KubeClient client(connection_to(api), quick_retries());
    const KubeError error = kube_error([&] { client.list_pods("default", LabelSelector()); });
    CHECK(error.kind() == KubeError::Kind::Rejected);
    CHECK_THAT(error.what(), Catch::Contains("cannot list resource \"pods\"") &&
                                 Catch::Contains("service account lacks permission"));
  }
}

TEST_CASE("other 4xx answers and malformed bodies are Invalid and not retried", "[kube_client]") {
  KubeApiDoubleProcess api;
  KubeClient client(connection_to(api), quick_retries());

  SECTION("404") {
    const KubeError error = kube_error([&] { client.get_json("/api/v1/services"); });
    CHECK(error.kind() == KubeError::Kind::Invalid);
    CHECK_THAT(error.what(), Catch::Contains("HTTP 404") &&
                                 Catch::Contains("could not find the requested resource"));
  }
  SECTION("a selector the server refuses") {
    api.inject_fault(R"({"status": 400, "count": 1})");
    CHECK(kube_error([&] { client.list_pods("default", LabelSelector()); }).kind() ==
          KubeError::Kind::Invalid);
  }
  SECTION("garbage instead of a PodList") {
    api.inject_fault(R"({"mode": "garbage"})");
    const KubeError error = kube_error([&] { client.list_pods("default", LabelSelector()); });
    CHECK(error.kind() == KubeError::Kind::Invalid);
    CHECK_THAT(error.what(), Catch::Contains("not JSON"));
  }
  CHECK(recorded(api).size() == 1);
}

TEST_CASE("transport failures are retried for reads, then Unavailable", "[kube_client][retry]") {
  KubeApiDoubleProcess api;

  SECTION("connection dropped without an answer, then served") {
    api.inject_fault(R"({"mode": "drop", "count": 1})");
    KubeClient client(connection_to(api), quick_retries(2));
    CHECK(client.list_pods("default", LabelSelector::parse("app=redis")).size() == 2);
    CHECK(recorded(api).size() == 2);
  }
  SECTION("no answer in time, every time") {
    api.inject_fault(R"({"mode": "hang"})");
    KubeClientOptions options = quick_retries(2);
    options.timeout = 300ms;
    KubeClient client(connection_to(api), options);
    const auto started = Clock::now();
    const KubeError error = kube_error([&] { client.list_pods("default", LabelSelector()); });
    CHECK(error.kind() == KubeError::Kind::Unavailable);
    CHECK_THAT(error.what(), Catch::Contains("no complete answer within 300 ms") &&
                                 Catch::Contains("2 attempts"));
    CHECK(Clock::now() - started < 1500ms);
  }
}

TEST_CASE("nothing listening is Unavailable after the attempts", "[kube_client][retry]") {
  KubeConnection connection;
  connection.server = "https://127.0.0.1:1";
  connection.source = "test";
  KubeClient client(connection, quick_retries(2));
  const KubeError error = kube_error([&] { client.get_json("/api"); });
  CHECK(error.kind() == KubeError::Kind::Unavailable);
  CHECK_THAT(error.what(), Catch::Contains("cannot connect") && Catch::Contains("2 attempts"));
}

TEST_CASE("POST is retried only where the server cannot have acted on it", "[kube_client][retry]") {
  KubeApiDoubleProcess api;
  KubeClient client(connection_to(api), quick_retries(3));
  const std::string review =
      R"({"apiVersion":"authorization.k8s.io/v1","kind":"SubjectAccessReview"})";

  SECTION("503 is retried; the final 405 is Invalid") {
    api.inject_fault(R"({"status": 503, "count": 1})");
    CHECK(kube_error([&] { client.post_json("/api/v1/namespaces/default/pods", review); }).kind() ==
          KubeError::Kind::Invalid);
    const auto requests = recorded(api);
    REQUIRE(requests.size() == 2);
    CHECK(requests[1].method == "POST");
  }
  SECTION("500 is not retried") {
    api.inject_fault(R"({"status": 500})");
    CHECK(kube_error([&] { client.post_json("/apis/x", review); }).kind() ==
          KubeError::Kind::Unavailable);
    CHECK(recorded(api).size() == 1);
  }
  SECTION("a timeout is not retried") {
    api.inject_fault(R"({"mode": "hang"})");
    KubeClientOptions options = quick_retries(3);
    options.timeout = 800ms;  // past the connection and handshake, also in a loaded sanitizer build
    KubeClient impatient(connection_to(api), options);
    CHECK(kube_error([&] { impatient.post_json("/apis/x", review); }).kind() ==
          KubeError::Kind::Unavailable);
    CHECK(recorded(api).size() == 1);
  }
}

TEST_CASE("get_json returns the body of a 2xx answer", "[kube_client]") {
  KubeApiDoubleProcess api;
  KubeClient client(connection_to(api), quick_retries());
  const std::string body = client.get_json("/api/v1/namespaces/payments/pods/kuard-7d4f-1");
  CHECK_THAT(body, Catch::StartsWith(
                       R"({"kind":"Pod","apiVersion":"v1","metadata":{"name":"kuard-7d4f-1")"));
  CHECK(kube_error([&] { client.get_json("api/v1/pods"); }).kind() == KubeError::Kind::Invalid);
}

TEST_CASE("a token file is read again when it changes", "[kube_client][token]") {
  KubeApiDoubleProcess api;
  ScratchDirectory scratch;
  KubeConnection connection = connection_to(api);
  connection.token = "";
  connection.token_file = scratch.write("token", std::string(KubeApiDoubleProcess::kToken) + "\n");
  KubeClient client(connection, quick_retries(1));
  CHECK(client.list_pods("default", LabelSelector::parse("app=redis")).size() == 2);

  // The kubelet rotates by writing a new file and swapping it in.
  api.control("POST", "token", R"({"token": "rotated-token"})");
  const std::string fresh = scratch.write("token.new", "rotated-token");
  std::filesystem::rename(fresh, connection.token_file);
  CHECK(client.list_pods("default", LabelSelector::parse("app=redis")).size() == 2);

  const auto requests = recorded(api);
  REQUIRE(requests.size() == 2);
  CHECK(requests[1].authorization == "Bearer rotated-token");
}

TEST_CASE("a client through a kubeconfig with inline CA data reaches the double",
          "[kube_client][kubeconfig]") {
  KubeApiDoubleProcess api;
  ScratchDirectory scratch;
  const std::string ca_pem = sma::kube::testing::read_file(api.ca_file());
  std::string encoded;
  {
    // base64 with the openssl command line keeps the test independent of the decoder under test.
    const std::string pem_path = scratch.write("ca.pem", ca_pem);
    REQUIRE(
        std::system(("openssl base64 -A -in " + pem_path + " -out " + scratch.path() + "/ca.b64")
                        .c_str()) == 0);
    encoded = sma::kube::testing::read_file(scratch.path() + "/ca.b64");
  }
  const std::string kubeconfig = scratch.write("config", R"(apiVersion: v1
kind: Config
current-context: double
clusters:
- name: double
  cluster:
    server: )" + api.server() + R"(
    certificate-authority-data: )" + encoded + R"(
contexts:
- name: double
  context: {cluster: double, user: adapter}
users:
- name: adapter
  user:
    token: )" + KubeApiDoubleProcess::kToken + "\n");

  // Inline PEMs go to private files in $TMPDIR while the client lives, and are removed with it.
  ScopedEnvironment environment;
  environment.set("TMPDIR", scratch.path());
  const auto inline_pem_files = [&] {
    std::vector<std::filesystem::path> found;
    for (const auto& entry : std::filesystem::directory_iterator(scratch.path())) {
      if (entry.path().filename().string().rfind("sma-kube-ca-", 0) == 0) {
        found.push_back(entry.path());
      }
    }
    return found;
  };
  {
    KubeClient client(sma::kube::load_kubeconfig(kubeconfig), quick_retries());
    CHECK(client.list_pods("default", LabelSelector::parse("app=redis")).size() == 2);
    CHECK(client.connection().source == "kubeconfig " + kubeconfig + " context double");
    const auto files = inline_pem_files();
    REQUIRE(files.size() == 1);
    CHECK(sma::kube::testing::read_file(files[0].string()) == ca_pem);
    CHECK((std::filesystem::status(files[0]).permissions() & std::filesystem::perms::all) ==
          (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write));
  }
  CHECK(inline_pem_files().empty());
  CHECK(recorded(api).size() == 1);
}
