#include "providers/query_batcher.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <future>
#include <stdexcept>
#include <vector>

using namespace std::chrono_literals;
using sma::providers::QueryBatcher;
using Names = std::vector<std::string>;  // sorted, as the batcher takes them

namespace {

struct Recorder {
  std::mutex mutex;
  std::vector<Names> calls;
  std::shared_ptr<const Names> operator()(const Names& names) {
    std::lock_guard lock(mutex);
    calls.push_back(names);
    return std::make_shared<const Names>(names);
  }
};

}  // namespace

TEST_CASE("requests with one key inside the window make one call over all their names", "[query_batcher]") {
  QueryBatcher<Names> batcher(200ms);
  Recorder recorder;
  auto ask = [&](const std::string& key, Names names) {
    return std::async(std::launch::async, [&, key, names] {
      return *batcher.submit(key, names, [&](const Names& all) { return recorder(all); });
    });
  };
  auto first = ask("pods", {"a", "b"});
  std::this_thread::sleep_for(30ms);
  auto second = ask("pods", {"c"});
  auto third = ask("pods", {"b", "d"});
  auto other = ask("other", {"x"});

  const Names all{"a", "b", "c", "d"};
  CHECK(first.get() == all);
  CHECK(second.get() == all);
  CHECK(third.get() == all);
  CHECK(other.get() == Names{"x"});
  CHECK(recorder.calls.size() == 2);

  // After the batch closed, the next request starts a new one.
  CHECK(ask("pods", {"z"}).get() == Names{"z"});
  CHECK(recorder.calls.size() == 3);
}

TEST_CASE("a window of zero calls once per request", "[query_batcher]") {
  QueryBatcher<Names> batcher(0ms);
  Recorder recorder;
  std::vector<std::future<Names>> answers;
  for (int i = 0; i < 4; ++i) {
    answers.push_back(std::async(std::launch::async, [&, i] {
      return *batcher.submit("pods", {std::to_string(i)}, [&](const Names& all) { return recorder(all); });
    }));
  }
  for (int i = 0; i < 4; ++i) CHECK(answers[i].get() == Names{std::to_string(i)});
  CHECK(recorder.calls.size() == 4);
}

TEST_CASE("a failed call fails every member of its batch", "[query_batcher]") {
  QueryBatcher<Names> batcher(400ms);
  std::atomic<int> calls{0};
  auto ask = [&](Names names) {
    return std::async(std::launch::async, [&, names] {
      return *batcher.submit("pods", names, [&](const Names&) -> std::shared_ptr<const Names> {
        ++calls;
        throw std::runtime_error("backend down");
      });
    });
  };
  auto first = ask({"a"});
  std::this_thread::sleep_for(20ms);
  auto second = ask({"b"});
  CHECK_THROWS_WITH(first.get(), "backend down");
  CHECK_THROWS_WITH(second.get(), "backend down");
  CHECK(calls == 1);
}
