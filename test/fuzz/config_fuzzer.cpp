// parse_config(text, "fuzz.yaml") on arbitrary text. Properties: only ConfigError escapes (yaml-cpp
// exceptions and conversion failures included); every ConfigError message reads
// "fuzz.yaml:<line>: <problem>"; an accepted file holds only valid names, whole-second windows of at
// least 1s, and rules with exactly one way of naming their metrics, and resolving a metric against it
// gives a rule of the right kind.
#include <exception>

#include "lib/api/names.h"
#include "lib/config/adapter_config.h"
#include "test/fuzz/fuzz_check.h"

namespace {

using namespace sma;
using fuzz::printable;

void check_message(std::string_view message, std::string_view text) {
  constexpr std::string_view kPrefix = "fuzz.yaml:";
  bool ok = message.substr(0, kPrefix.size()) == kPrefix;
  std::size_t i = kPrefix.size();
  std::size_t digits = 0;
  while (ok && i < message.size() && message[i] >= '0' && message[i] <= '9') ++i, ++digits;
  ok = ok && digits > 0 && i < message.size() && message[i] == ':';
  FUZZ_CHECK(ok, "ConfigError " + printable(message) + " for " + printable(text));
}

void check_config(const config::AdapterConfig& c, std::string_view text) {
  FUZZ_CHECK(c.source == "fuzz.yaml", "source " + printable(c.source));
  FUZZ_CHECK(c.default_window.count() >= 1, "default window below 1s accepted: " + printable(text));
  if (c.default_query_offset) FUZZ_CHECK(c.default_query_offset->count() >= 0, "negative default offset");
  for (const auto& r : c.rules) {
    FUZZ_CHECK(r.line >= 1, "rule without a line: " + printable(text));
    FUZZ_CHECK(r.metric.empty() == (r.metric_regex != nullptr), "a rule with both or neither of metric and regex: " + printable(text));
    if (!r.metric.empty()) FUZZ_CHECK(!api::check_metric_name(r.metric), "metric " + printable(r.metric) + " accepted");
    FUZZ_CHECK(!r.external || r.resources.empty(), "an external rule with resources: " + printable(text));
    for (const auto& resource : r.resources) {
      FUZZ_CHECK(!api::check_resource_name(resource.to_string()), "resource " + printable(resource.to_string()) + " accepted");
    }
    if (r.window) FUZZ_CHECK(r.window->count() >= 1, "a window below 1s accepted: " + printable(text));
    if (r.query_offset) FUZZ_CHECK(r.query_offset->count() >= 0, "a negative offset accepted: " + printable(text));
    if (!r.backend.empty()) {
      FUZZ_CHECK(r.backend == "sysdig" || r.backend == "prometheus" || r.backend == "push" || r.backend == "exec" ||
                     r.backend == "computed",
                 "backend " + printable(r.backend));
    }
    FUZZ_CHECK((r.backend == "exec") == r.exec.has_value(), "an exec backend without a command, or the reverse: " + printable(text));
    FUZZ_CHECK((r.backend == "computed") == r.expr.has_value(), "a computed backend without expr, or the reverse: " + printable(text));
    if (r.exec) {
      FUZZ_CHECK(!r.exec->command.empty() && r.exec->command.front().front() == '/', "an exec command that is not a path");
    }
    if (!r.query.empty()) {
      FUZZ_CHECK(r.query.find("<<.LabelMatchers>>") != std::string::npos, "an unscoped query accepted: " + printable(text));
    }
  }
  for (const auto* labels : {&c.promql_labels, &c.prometheus_labels, &c.data_api_labels}) {
    for (const auto& [resource, label] : labels->resources) {
      FUZZ_CHECK(!api::check_resource_name(resource), "label mapping for resource " + printable(resource));
    }
  }
  // Resolution is what every request does with the file, regex rules included: RE2 matches in
  // time linear in the name, whatever the pattern (std::regex took exponential time on "x**...*").
  for (const char* metric : {"http_requests_total", "net.http.request.count", "queue.depth", "m"}) {
    for (const auto& resource : {api::GroupResource{"pods", ""}, api::GroupResource{"deployments", "apps"}}) {
      auto resolved = c.resolve_custom(metric, resource);
      if (resolved && resolved->rule) FUZZ_CHECK(!resolved->rule->external, "a custom metric resolved to an external rule");
    }
    auto resolved = c.resolve_external(metric);
    if (resolved && resolved->rule) FUZZ_CHECK(resolved->rule->external, "an external metric resolved to a custom rule");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(fuzz::as_text(data, size));
  try {
    auto c = config::parse_config(text, "fuzz.yaml");
    check_config(c, text);
  } catch (const config::ConfigError& e) {
    check_message(e.what(), text);
  } catch (const std::exception& e) {
    FUZZ_CHECK(false, std::string("unexpected exception: ") + e.what() + " for " + printable(text));
  }
  return 0;
}
