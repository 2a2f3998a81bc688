#include <catch2/catch.hpp>

#include <atomic>
#include <stdexcept>
#include <thread>

#include "providers/metric_catalog.h"

using sma::providers::MetricCatalog;

TEST_CASE("a failed refresh keeps the last good list") {
  int calls = 0;
  MetricCatalog catalog("test", [&]() -> std::vector<std::string> {
    if (++calls == 2) throw std::runtime_error("backend down");
    return {"b", "a", "a"};
  }, std::chrono::minutes(5));
  CHECK(catalog.refresh());
  CHECK(catalog.names() == std::vector<std::string>{"a", "b"});  // sorted, unique
  CHECK_FALSE(catalog.refresh());
  CHECK(catalog.names() == std::vector<std::string>{"a", "b"});
}

TEST_CASE("after a failure the background refresh retries long before the interval") {
  std::atomic<int> calls{0};
  MetricCatalog catalog("test", [&]() -> std::vector<std::string> {
    if (++calls == 1) throw std::runtime_error("backend down at start");
    return {"m"};
  }, std::chrono::hours(1));
  catalog.start();
  for (int i = 0; i < 100 && catalog.names().empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(catalog.names() == std::vector<std::string>{"m"});
}
