// PodCache against test/doubles/kube_api_double.py: one list per namespace, then a real watch over
// HTTPS keeps it current, through broken watches, expired versions and outages.
#include "lib/kube/pod_cache.h"

#include <rapidjson/document.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <algorithm>
#include <functional>
#include <initializer_list>
#include <mutex>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "test/unit/kube/kube_api_double_process.h"

using namespace std::chrono_literals;
using sma::api::LabelSelector;
using sma::kube::KubeClient;
using sma::kube::KubeClientOptions;
using sma::kube::KubeError;
using sma::kube::PodCache;
using sma::kube::PodCacheOptions;
using sma::kube::testing::KubeApiDoubleProcess;

namespace {

struct Pod {
  std::string name;
  std::string labels_json;  // {"app":"web"}
  std::string phase = "Running";
};

std::string fixture(const std::vector<Pod>& pods, const std::string& namespace_ = "shop") {
  std::string items;
  for (const auto& pod : pods) {
    if (!items.empty()) items += ",";
    items += R"({"kind":"Pod","metadata":{"name":")" + pod.name + R"(","namespace":")" + namespace_ +
             R"(","labels":)" + pod.labels_json + R"(},"status":{"phase":")" + pod.phase + R"("}})";
  }
  return R"({"kind":"List","apiVersion":"v1","items":[)" + items + "]}";
}

KubeClient client_for(const KubeApiDoubleProcess& api) {
  KubeClientOptions options;
  options.timeout = 2000ms;
  options.max_attempts = 1;
  options.watch_timeout = 30s;
  return KubeClient(api.connection(), options);
}

PodCacheOptions quick_options() {
  PodCacheOptions options;
  options.initial_backoff = 20ms;
  options.max_backoff = 100ms;
  return options;
}

// Requests recorded by the double: how many lists and watches of `path`.
struct Calls {
  int lists = 0;
  int watches = 0;
  std::vector<std::string> watch_versions;
};

Calls calls(KubeApiDoubleProcess& api, const std::string& path = "/api/v1/namespaces/shop/pods") {
  rapidjson::Document document;
  const std::string text = api.requests();
  document.Parse(text.c_str());
  Calls out;
  for (const auto& entry : document.GetArray()) {
    if (std::string(entry["path"].GetString()) != path) continue;
    const auto& query = entry["query"];
    if (query.HasMember("watch")) {
      ++out.watches;
      out.watch_versions.push_back(query["resourceVersion"].GetArray()[0].GetString());
      CHECK(std::string(query["allowWatchBookmarks"].GetArray()[0].GetString()) == "true");
    } else {
      ++out.lists;
    }
  }
  return out;
}

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds limit = 5000ms) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return condition();
}

const std::vector<Pod> kStart = {{"web-1", R"({"app":"web"})"}, {"web-2", R"({"app":"web"})"},
                                 {"db-0", R"({"app":"db"})"}};

// The Kubernetes double holding kStart in namespace shop, and a client of it.
struct Shop {
  KubeApiDoubleProcess api;
  KubeClient client;
  Shop() : client(client_for(api)) { api.control("POST", "fixture", fixture(kStart)); }
};

// The first request lists the namespace; then its watch opens.
void list_and_watch(PodCache& cache) {
  REQUIRE(cache.pod_names("shop", LabelSelector()).size() == 3);
  REQUIRE(eventually([&] { return cache.state("shop")->watching; }));
}

}  // namespace

TEST_CASE("a namespace is listed once and then answered from memory", "[pod_cache]") {
  Shop shop;
  auto& api = shop.api;
  PodCache cache(shop.client, quick_options());

  CHECK(cache.pod_names("shop", LabelSelector::parse("app=web")) == std::vector<std::string>{"web-1", "web-2"});
  CHECK(cache.pod_names("shop", LabelSelector::parse("app!=web")) == std::vector<std::string>{"db-0"});
  CHECK(cache.pod_names("shop", LabelSelector()) == std::vector<std::string>{"db-0", "web-1", "web-2"});
  REQUIRE(eventually([&] { return cache.state("shop")->watching; }));

  const Calls seen = calls(api);
  CHECK(seen.lists == 1);
  CHECK(seen.watches == 1);
  // The watch starts where the list ended: nothing can fall between them.
  CHECK(seen.watch_versions.at(0) == cache.state("shop")->resource_version);
  CHECK_FALSE(cache.state("elsewhere").has_value());
}

TEST_CASE("changes arrive by the watch: added, relabelled, finished and deleted pods", "[pod_cache]") {
  Shop shop;
  auto& api = shop.api;
  PodCache cache(shop.client, quick_options());
  const auto web = LabelSelector::parse("app=web");
  REQUIRE(cache.pod_names("shop", web).size() == 2);
  REQUIRE(eventually([&] { return cache.state("shop")->watching; }));

  api.control("POST", "fixture",
              fixture({{"web-1", R"({"app":"web"})", "Succeeded"},  // finished: no longer counted
                       {"web-3", R"({"app":"web"})"},               // added
                       {"db-0", R"({"app":"web"})"}}));             // relabelled; web-2 deleted
  CHECK(eventually([&] { return cache.pod_names("shop", web) == std::vector<std::string>{"db-0", "web-3"}; }));
  CHECK(cache.pod_names("shop", LabelSelector::parse("app=db")).empty());
  CHECK(calls(api).lists == 1);
}

TEST_CASE("concurrent first requests share one list", "[pod_cache]") {
  Shop shop;
  shop.api.inject_fault(R"({"latency_ms": 300, "count": 1})");  // the first list is slow
  PodCache cache(shop.client, quick_options());

  std::vector<std::future<std::vector<std::string>>> answers;
  for (int i = 0; i < 6; ++i) {
    answers.push_back(std::async(std::launch::async, [&] { return cache.pod_names("shop", LabelSelector()); }));
  }
  for (auto& answer : answers) CHECK(answer.get().size() == 3);
  CHECK(calls(shop.api).lists == 1);
}

TEST_CASE("a broken watch resumes from the last version without listing again", "[pod_cache]") {
  Shop shop;
  auto& api = shop.api;
  PodCache cache(shop.client, quick_options());
  list_and_watch(cache);
  api.control("POST", "fixture", fixture({{"web-1", R"({"app":"web"})"}}));
  REQUIRE(eventually([&] { return cache.pod_names("shop", LabelSelector()).size() == 1; }));
  const std::string before = cache.state("shop")->resource_version;

  api.control("POST", "break-watches");
  REQUIRE(eventually([&] { return calls(api).watches == 2 && cache.state("shop")->watching; }));
  api.control("POST", "fixture", fixture({{"web-1", R"({"app":"web"})"}, {"web-9", R"({"app":"web"})"}}));

  CHECK(eventually([&] { return cache.pod_names("shop", LabelSelector()).size() == 2; }));
  const Calls seen = calls(api);
  CHECK(seen.lists == 1);
  CHECK(seen.watch_versions.at(1) >= before);  // resumed where it was (bookmarks may have moved it on)
}

TEST_CASE("an expired version makes the cache list again", "[pod_cache]") {
  Shop shop;
  auto& api = shop.api;
  PodCache cache(shop.client, quick_options());
  list_and_watch(cache);

  // The history is forgotten while the watch is down, and a pod changes meanwhile: only a new list
  // can tell.
  api.inject_fault(R"({"mode": "drop", "count": 3, "path_prefix": "/api/v1/namespaces/shop/pods"})");
  api.control("POST", "break-watches");
  api.control("POST", "fixture", fixture({{"db-0", R"({"app":"db"})"}}));
  api.control("POST", "compact");

  CHECK(eventually([&] { return cache.pod_names("shop", LabelSelector()) == std::vector<std::string>{"db-0"}; }));
  CHECK(cache.state("shop")->lists == 2);
}

TEST_CASE("while the API is down the last pods are served for max_staleness, then refused", "[pod_cache]") {
  Shop shop;
  auto& api = shop.api;
  auto& client = shop.client;
  PodCacheOptions options = quick_options();
  options.max_staleness = 600ms;
  std::vector<std::string> problems;
  std::mutex problems_mutex;
  options.on_problem = [&](const std::string& message) {
    std::lock_guard lock(problems_mutex);
    problems.push_back(message);
  };
  PodCache cache(client, options);
  list_and_watch(cache);

  api.inject_fault(R"({"mode": "status", "status": 503})");
  api.control("POST", "break-watches");
  REQUIRE(eventually([&] { return !cache.state("shop")->watching; }));
  CHECK(cache.pod_names("shop", LabelSelector()).size() == 3);  // still within max_staleness

  std::this_thread::sleep_for(700ms);
  try {
    cache.pod_names("shop", LabelSelector());
    FAIL("stale pods were served");
  } catch (const KubeError& error) {
    CHECK(error.kind() == KubeError::Kind::Unavailable);
    CHECK_THAT(error.what(), Catch::Contains("namespace shop") && Catch::Contains("watch"));
  }

  api.control("DELETE", "faults");
  CHECK(eventually([&] { return cache.state("shop")->watching; }));
  CHECK(cache.pod_names("shop", LabelSelector()).size() == 3);
  std::lock_guard lock(problems_mutex);
  REQUIRE_FALSE(problems.empty());
  CHECK_THAT(problems.front(), Catch::Contains("namespace shop") && Catch::Contains("retrying"));
}

TEST_CASE("a watch that opens and fails at once, again and again, does not keep stale pods fresh", "[pod_cache]") {
  Shop shop;
  PodCacheOptions options = quick_options();
  options.max_staleness = 600ms;
  PodCache cache(shop.client, options);
  list_and_watch(cache);

  // Every new watch is accepted (200) and then unreadable: open for an instant each time.
  shop.api.inject_fault(R"({"mode": "garbage", "path_prefix": "/api/v1/namespaces/shop/pods"})");
  shop.api.control("POST", "break-watches");
  REQUIRE(eventually([&] { return calls(shop.api).watches >= 3; }));
  std::this_thread::sleep_for(700ms);
  try {
    cache.pod_names("shop", LabelSelector());
    FAIL("stale pods were served");
  } catch (const KubeError& error) {
    CHECK(error.kind() == KubeError::Kind::Unavailable);
  }
  shop.api.control("DELETE", "faults");
  CHECK(eventually([&] {
    try {
      return cache.pod_names("shop", LabelSelector()).size() == 3;
    } catch (const KubeError&) {
      return false;
    }
  }));
}

TEST_CASE("a namespace that cannot be listed is an error, and the next request tries again", "[pod_cache]") {
  Shop shop;
  auto& api = shop.api;
  PodCache cache(shop.client, quick_options());
  api.inject_fault(R"({"mode": "status", "status": 403, "count": 1})");
  try {
    cache.pod_names("shop", LabelSelector());
    FAIL("no error");
  } catch (const KubeError& error) {
    CHECK(error.kind() == KubeError::Kind::Rejected);
  }
  CHECK(cache.pod_names("shop", LabelSelector()).size() == 3);
}

TEST_CASE("a namespace nobody asks about is forgotten", "[pod_cache]") {
  Shop shop;
  auto& api = shop.api;
  auto& client = shop.client;
  PodCacheOptions options = quick_options();
  options.idle = 300ms;
  PodCache cache(client, options);
  REQUIRE(cache.pod_names("shop", LabelSelector()).size() == 3);
  // Events and bookmarks (the double sends one a second) make the watcher look at the clock.
  CHECK(eventually([&] { return !cache.state("shop")->listed; }, 4000ms));
  CHECK(cache.state("shop")->pods == 0);
  CHECK(cache.pod_names("shop", LabelSelector()).size() == 3);  // listed again
  CHECK(calls(api).lists == 2);
}

namespace {

// Pods in several namespaces: {namespace, pods}.
std::string spread_fixture(const std::vector<std::pair<std::string, std::vector<Pod>>>& spaces) {
  std::string items;
  for (const auto& [space, pods] : spaces) {
    std::string one = fixture(pods, space);
    const auto open = one.find('[') + 1;
    const std::string listed = one.substr(open, one.rfind(']') - open);
    if (listed.empty()) continue;
    if (!items.empty()) items += ",";
    items += listed;
  }
  return R"({"kind":"List","apiVersion":"v1","items":[)" + items + "]}";
}

}  // namespace

TEST_CASE("one cluster-wide watch serves every namespace from one list", "[pod_cache][cluster]") {
  KubeApiDoubleProcess api;
  api.control("POST", "fixture", spread_fixture({{"a", {{"web-1", R"({"app":"web"})"}}},
                                                 {"b", {{"web-1", R"({"app":"web"})"}, {"db-0", R"({"app":"db"})"}}}}));
  KubeClient client = client_for(api);
  PodCacheOptions options = quick_options();
  options.scope = sma::kube::PodWatchScope::Cluster;
  PodCache cache(client, options);

  CHECK(cache.pod_names("a", LabelSelector()) == std::vector<std::string>{"web-1"});
  CHECK(cache.pod_names("b", LabelSelector::parse("app=db")) == std::vector<std::string>{"db-0"});
  CHECK(cache.pod_names("empty", LabelSelector()).empty());  // a namespace without pods: no list of its own
  REQUIRE(eventually([&] { return cache.state().watches_open == 1; }));
  CHECK(cache.state().cluster_wide);
  CHECK(calls(api, "/api/v1/pods").lists == 1);
  CHECK(calls(api, "/api/v1/pods").watches == 1);
  CHECK(calls(api, "/api/v1/namespaces/a/pods").lists == 0);

  // Changes in any namespace, a new one included, arrive by the one watch.
  api.control("POST", "fixture", spread_fixture({{"a", {}},
                                                 {"b", {{"db-0", R"({"app":"db"})"}}},
                                                 {"empty", {{"late-0", R"({"app":"late"})"}}}}));
  CHECK(eventually([&] { return cache.pod_names("empty", LabelSelector()) == std::vector<std::string>{"late-0"}; }));
  CHECK(eventually([&] { return cache.pod_names("a", LabelSelector()).empty(); }));
  CHECK(cache.pod_names("b", LabelSelector()) == std::vector<std::string>{"db-0"});
  CHECK(calls(api, "/api/v1/pods").lists == 1);

  // A broken cluster watch resumes without disturbing the answers.
  api.control("POST", "break-watches", "{}");
  REQUIRE(eventually([&] { return calls(api, "/api/v1/pods").watches == 2; }));
  CHECK(cache.pod_names("b", LabelSelector()) == std::vector<std::string>{"db-0"});
}

namespace {

// Namespaces of one pod each ("p-0", app=x).
std::vector<std::pair<std::string, std::vector<Pod>>> one_pod_each(std::initializer_list<const char*> names) {
  std::vector<std::pair<std::string, std::vector<Pod>>> spaces;
  for (const char* space : names) spaces.push_back({space, {{"p-0", R"({"app":"x"})"}}});
  return spaces;
}

// The auto scope, switching to the cluster's watch above two namespaces.
PodCacheOptions auto_options() {
  PodCacheOptions options = quick_options();
  options.scope = sma::kube::PodWatchScope::Auto;
  options.cluster_watch_above = 2;
  return options;
}

}  // namespace

TEST_CASE("past the threshold, watches of namespaces give way to one watch of the cluster", "[pod_cache][cluster]") {
  KubeApiDoubleProcess api;
  auto spaces = one_pod_each({"n1", "n2", "n3", "n4"});
  api.control("POST", "fixture", spread_fixture(spaces));
  KubeClient client = client_for(api);
  PodCacheOptions options = auto_options();
  std::vector<std::string> problems;
  std::mutex problems_mutex;
  options.on_problem = [&](const std::string& message) {
    std::lock_guard lock(problems_mutex);
    problems.push_back(message);
  };
  PodCache cache(client, options);

  for (const char* space : {"n1", "n2"}) CHECK(cache.pod_names(space, LabelSelector()).size() == 1);
  REQUIRE(eventually([&] { return cache.state().watches_open == 2; }));
  CHECK_FALSE(cache.state().cluster_wide);

  CHECK(cache.pod_names("n3", LabelSelector()).size() == 1);  // the third: over the threshold
  REQUIRE(eventually([&] { return cache.state().cluster_wide && cache.state().watches_open == 1; }));
  CHECK(cache.state().namespaces == 3);
  CHECK(calls(api, "/api/v1/pods").lists == 1);
  // A fourth namespace is known from the cluster's list already.
  CHECK(cache.pod_names("n4", LabelSelector()) == std::vector<std::string>{"p-0"});
  CHECK(calls(api, "/api/v1/namespaces/n4/pods").lists == 0);
  {
    std::lock_guard lock(problems_mutex);
    CHECK(std::count_if(problems.begin(), problems.end(),
                        [](const std::string& m) { return m.find("switching to one watch") != std::string::npos; }) == 1);
  }
  spaces[0].second.push_back({"p-1", R"({"app":"x"})"});
  api.control("POST", "fixture", spread_fixture(spaces));
  CHECK(eventually([&] { return cache.pod_names("n1", LabelSelector()).size() == 2; }));
}

TEST_CASE("while the switch to the cluster's watch lists, new namespaces wait for it instead of listing alone",
          "[pod_cache][cluster]") {
  KubeApiDoubleProcess api;
  api.control("POST", "fixture", spread_fixture(one_pod_each({"n1", "n2", "n3", "n4", "n5"})));
  KubeClient client = client_for(api);
  PodCache cache(client, auto_options());
  for (const char* space : {"n1", "n2"}) CHECK(cache.pod_names(space, LabelSelector()).size() == 1);
  // The cluster's list takes a while (a big cluster): the namespaces asked meanwhile wait for it.
  api.control("POST", "faults", R"({"latency_ms": 700, "count": 1, "path_prefix": "/api/v1/pods"})");
  CHECK(cache.pod_names("n3", LabelSelector()).size() == 1);  // over the threshold: the switch begins
  CHECK(cache.pod_names("n4", LabelSelector()) == std::vector<std::string>{"p-0"});
  CHECK(cache.pod_names("n5", LabelSelector()) == std::vector<std::string>{"p-0"});
  CHECK(cache.state().cluster_wide);
  CHECK(calls(api, "/api/v1/namespaces/n4/pods").lists == 0);
  CHECK(calls(api, "/api/v1/namespaces/n5/pods").lists == 0);
  CHECK(calls(api, "/api/v1/pods").lists == 1);
}

TEST_CASE("a switch to the cluster's watch that cannot list leaves new namespaces to list alone", "[pod_cache][cluster]") {
  KubeApiDoubleProcess api;
  api.control("POST", "fixture", spread_fixture(one_pod_each({"n1", "n2", "n3", "n4"})));
  KubeClient client = client_for(api);
  PodCache cache(client, auto_options());
  // Listing every pod is forbidden (RBAC limited to namespaces, say).
  api.control("POST", "faults", R"({"mode": "status", "status": 403, "path_prefix": "/api/v1/pods"})");
  for (const char* space : {"n1", "n2", "n3"}) CHECK(cache.pod_names(space, LabelSelector()).size() == 1);
  CHECK(cache.pod_names("n4", LabelSelector()) == std::vector<std::string>{"p-0"});
  CHECK_FALSE(cache.state().cluster_wide);
  CHECK(calls(api, "/api/v1/namespaces/n4/pods").lists == 1);
}
