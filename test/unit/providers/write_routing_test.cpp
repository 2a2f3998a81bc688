// Writes reach the push backend only for metrics it serves.
#include <catch2/catch.hpp>

#include <vector>

#include "lib/config/adapter_config.h"
#include "providers/write_routing.h"

using namespace sma;
using namespace sma::providers;

namespace {

struct RecordingWriter : MetricsWriter {
  std::vector<std::string> written;
  void write_object_value(const ObjectQuery& target, std::string_view) override { written.push_back(target.metric); }
  void write_external_value(const std::string&, const std::string& metric, std::string_view) override {
    written.push_back(metric);
  }
};

std::shared_ptr<config::ConfigSource> source(const std::string& yaml, const std::string& default_backend) {
  auto c = std::make_shared<config::AdapterConfig>(config::parse_config(yaml, "adapter.yaml"));
  if (c->default_backend.empty()) c->default_backend = default_backend;
  return std::make_shared<config::ConfigSource>(c);
}

ObjectQuery target(const std::string& metric) {
  ObjectQuery q;
  q.namespace_ = "default";
  q.resource = {"services", ""};
  q.name = "kuard";
  q.metric = metric;
  return q;
}

std::string refusal(const std::function<void()>& write) {
  try {
    write();
  } catch (const MetricsError& e) {
    CHECK(e.kind() == MetricsError::Kind::BadRequest);
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("a write to a metric another backend serves is refused, naming the metric, backend and rule") {
  RecordingWriter push;
  RoutedWriter writer(source(R"(rules:
  - metric: pushed_rps
    backend: push
  - metricRegex: ".*"
    backend: sysdig
  - external: pushed_queue
    backend: push
  - externalRegex: ".*"
    backend: prometheus
)",
                             "push"),
                      push);
  writer.write_object_value(target("pushed_rps"), "1");
  writer.write_external_value("default", "pushed_queue", "1");
  CHECK(push.written == std::vector<std::string>{"pushed_rps", "pushed_queue"});

  CHECK(refusal([&] { writer.write_object_value(target("net.http.request.count"), "1"); }) ==
        "refusing to store a value for the metric net.http.request.count of services: it is served by the sysdig "
        "backend (rule at adapter.yaml:4), not by push, so the value would never be read; route it to push with a "
        "rule before that one, or stop writing it");
  CHECK_THAT(refusal([&] { writer.write_external_value("default", "queue.depth", "1"); }),
             Catch::StartsWith("refusing to store a value for the external metric queue.depth: it is served by the "
                               "prometheus backend (rule at adapter.yaml:8)"));
  CHECK(push.written.size() == 2);  // nothing stored for the refused writes
}

TEST_CASE("without rules, writes follow the default backend") {
  RecordingWriter push;
  RoutedWriter to_push(source("", "push"), push);
  to_push.write_object_value(target("anything"), "1");
  CHECK(push.written.size() == 1);
  RoutedWriter to_sysdig(source("rules:\n  - external: q\n    backend: push\n", "sysdig"), push);
  CHECK_THAT(refusal([&] { to_sysdig.write_object_value(target("anything"), "1"); }),
             Catch::Contains("it is served by the sysdig backend (the default backend: defaults.backend in "
                             "adapter.yaml or --backend)"));
  // A metric no rule exposes is stored: reads answer 404 until a rule exposes it.
  RoutedWriter narrowed(source("rules:\n  - metric: other\n    backend: sysdig\n", "push"), push);
  narrowed.write_object_value(target("unlisted"), "1");
  CHECK(push.written.size() == 2);
}
