#include "providers/computed/computed_provider.h"

#include <algorithm>
#include <charconv>
#include <exception>
#include <future>
#include <optional>
#include <set>
#include <system_error>

#include "lib/api/no_wait.h"
#include "providers/backend_rules.h"
#include "providers/computed/expression_evaluation.h"

namespace sma::providers::computed {
namespace {

template <typename T>
struct Outcome {
  std::optional<T> value;
  std::exception_ptr error;
};

// fetch(name) for every operand at once: the first on this thread, the others on threads of their
// own (an expression reads a handful of metrics; each waits on its backend, not on the CPU).
template <typename T, typename Fetch>
std::vector<Outcome<T>> fetch_all(const std::vector<std::string>& names, const Fetch& fetch) {
  // Operands on threads of their own would not know this thread may not wait: never on the I/O thread.
  api::WaitScope waiting;
  std::vector<Outcome<T>> out(names.size());
  auto one = [&](std::size_t i) {
    try {
      out[i].value.emplace(fetch(names[i]));
    } catch (...) {
      out[i].error = std::current_exception();
    }
  };
  std::vector<std::future<void>> running;
  for (std::size_t i = 1; i < names.size(); ++i) {
    try {
      running.push_back(std::async(std::launch::async, one, i));
    } catch (const std::system_error&) {
      one(i);  // no thread to be had: read it here
    }
  }
  if (!names.empty()) one(0);
  for (auto& f : running) f.get();
  return out;
}

bool is_not_found(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const MetricsError& e) {
    return e.kind() == MetricsError::Kind::NotFound;
  } catch (...) {
    return false;
  }
}

// An operand's failure as this metric's: the same kind (404, 503, 504, ...), the message naming it.
[[noreturn]] void operand_failed(const std::string& what, const std::string& operand, const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const MetricsError& e) {
    throw MetricsError(e.kind(), what + ": operand " + operand + ": " + e.what());
  } catch (const std::exception& e) {
    throw MetricsError(MetricsError::Kind::Internal, what + ": operand " + operand + ": " + e.what());
  }
}

// The result with 15 significant digits, what a double holds: arithmetic on decimal inputs leaves
// noise in the last bits (0.1 + 0.2 is 0.30000000000000004), which rounding up to 1m would turn
// into a whole milli-unit (301m).
api::Quantity to_quantity(const std::string& what, double value) {
  char text[64];
  auto written = std::to_chars(text, text + sizeof text, value, std::chars_format::general, 15);
  double rounded = value;
  if (written.ec == std::errc()) std::from_chars(text, written.ptr, rounded);
  auto q = api::Quantity::from_double(rounded);
  if (!q) {
    throw MetricsError(MetricsError::Kind::Internal, what + ": the result " + std::to_string(value) +
                                                         " does not fit a Kubernetes quantity");
  }
  return *q;
}

double evaluated(const std::string& what, const config::MetricExpression& expression,
                 const std::map<std::string, double>& values) {
  try {
    return evaluate(expression, values);
  } catch (const EvaluationError& e) {
    throw MetricsError(MetricsError::Kind::Internal, what + ": " + e.what());
  }
}

const config::MetricExpression& expression_of(const config::ResolvedRule& rule) {
  if (rule.rule == nullptr || !rule.rule->expr) {
    throw MetricsError(MetricsError::Kind::Internal, "the " + rule.origin + " has no expression");
  }
  return *rule.rule->expr;
}

// The oldest operand timestamp: the value is no fresher than its stalest input.
template <typename Value>
void fold_time(const Value& v, std::optional<api::Clock::time_point>& oldest, std::optional<std::int64_t>& window) {
  if (!oldest || v.timestamp < *oldest) oldest = v.timestamp;
  if (v.window_seconds && (!window || *v.window_seconds > *window)) window = v.window_seconds;
}

}  // namespace

ComputedProvider::ComputedProvider(std::shared_ptr<const config::ConfigSource> config,
                                   std::map<std::string, MetricsProvider*> backends, KindLookup kinds)
    : config_(std::move(config)), kinds_(std::move(kinds)) {
  backends["computed"] = this;
  operands_ = std::make_unique<RuleDispatcher>(config_, std::move(backends));
}

api::MetricValue ComputedProvider::get_metric_by_name(const ObjectQuery& q) {
  const auto config = config_->get();
  const auto rule = custom_rule_or_not_found(*config, q.metric, q.resource);
  const auto& expression = expression_of(rule);
  const std::string what = "cannot compute " + q.metric + " for " + q.resource.to_string() + " " + q.name + " (" +
                           rule.origin + ")";
  const auto& names = expression.operands();
  auto outcomes = fetch_all<api::MetricValue>(names, [&](const std::string& name) {
    ObjectQuery operand = q;
    operand.metric = name;
    return operands_->get_metric_by_name(operand);
  });
  std::map<std::string, double> values;
  std::optional<api::Clock::time_point> oldest;
  std::optional<std::int64_t> window;
  for (std::size_t i = 0; i < names.size(); ++i) {
    auto& outcome = outcomes[i];
    if (outcome.error) {
      if (rule.absent_as && is_not_found(outcome.error)) {
        values[names[i]] = rule.absent_as->to_double();
        continue;
      }
      operand_failed(what, names[i], outcome.error);
    }
    values[names[i]] = outcome.value->value.to_double();
    fold_time(*outcome.value, oldest, window);
  }
  return {describe_object(kinds_, q.resource, q.namespace_, q.name), q.metric, oldest.value_or(api::Clock::now()),
          window, to_quantity(what, evaluated(what, expression, values))};
}

std::vector<api::MetricValue> ComputedProvider::get_metric_by_selector(const SelectorQuery& q) {
  const auto config = config_->get();
  const auto rule = custom_rule_or_not_found(*config, q.metric, q.resource);
  const auto& expression = expression_of(rule);
  const std::string what = "cannot compute " + q.metric + " for " + q.resource.to_string() + " (" + rule.origin + ")";
  const auto& names = expression.operands();
  auto outcomes = fetch_all<std::vector<api::MetricValue>>(names, [&](const std::string& name) {
    SelectorQuery operand = q;
    operand.metric = name;
    return operands_->get_metric_by_selector(operand);
  });
  // Per operand: object name -> its value.
  std::vector<std::map<std::string, const api::MetricValue*>> by_object(names.size());
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (outcomes[i].error) {
      if (rule.absent_as && is_not_found(outcomes[i].error)) continue;  // every object lacks it
      operand_failed(what, names[i], outcomes[i].error);
    }
    for (const auto& v : *outcomes[i].value) by_object[i][v.described_object.name] = &v;
  }
  // The objects to answer for: those every operand has; with absentAs, those any operand has.
  std::set<std::string> objects;
  for (std::size_t i = 0; i < names.size(); ++i) {
    for (const auto& [name, v] : by_object[i]) objects.insert(name);
  }
  std::vector<api::MetricValue> items;
  for (const auto& object : objects) {
    std::map<std::string, double> values;
    std::optional<api::Clock::time_point> oldest;
    std::optional<std::int64_t> window;
    bool complete = true;
    for (std::size_t i = 0; i < names.size() && complete; ++i) {
      auto it = by_object[i].find(object);
      if (it == by_object[i].end()) {
        complete = rule.absent_as.has_value();
        if (complete) values[names[i]] = rule.absent_as->to_double();
        continue;
      }
      values[names[i]] = it->second->value.to_double();
      fold_time(*it->second, oldest, window);
    }
    if (!complete) continue;
    const std::string for_object = what + ", " + object;
    items.push_back({describe_object(kinds_, q.resource, q.namespace_, object), q.metric,
                     oldest.value_or(api::Clock::now()), window,
                     to_quantity(for_object, evaluated(for_object, expression, values))});
  }
  // An expression of numbers alone has no objects to answer for.
  return items;
}

std::vector<api::ExternalMetricValue> ComputedProvider::get_external_metric(const ExternalQuery& q) {
  const auto config = config_->get();
  const auto rule = external_rule_or_not_found(*config, q.metric);
  const auto& expression = expression_of(rule);
  const std::string what = "cannot compute the external metric " + q.metric + " (" + rule.origin + ")";
  const auto& names = expression.operands();
  auto outcomes = fetch_all<std::vector<api::ExternalMetricValue>>(names, [&](const std::string& name) {
    ExternalQuery operand = q;
    operand.metric = name;
    return operands_->get_external_metric(operand);
  });
  std::map<std::string, double> values;
  std::optional<api::Clock::time_point> oldest;
  std::optional<std::int64_t> window;
  for (std::size_t i = 0; i < names.size(); ++i) {
    auto& outcome = outcomes[i];
    bool absent = outcome.error ? is_not_found(outcome.error) : outcome.value->empty();
    if (absent && rule.absent_as) {
      values[names[i]] = rule.absent_as->to_double();
      continue;
    }
    if (outcome.error) operand_failed(what, names[i], outcome.error);
    if (absent) {
      throw MetricsError(MetricsError::Kind::NotFound,
                         what + ": operand " + names[i] + " has no series in namespace " + q.namespace_ +
                             (q.metric_selector.empty() ? "" : " matching " + q.metric_selector.to_string()));
    }
    double sum = 0;
    for (const auto& v : *outcome.value) {
      sum += v.value.to_double();
      fold_time(v, oldest, window);
    }
    values[names[i]] = sum;
  }
  return {{q.metric, {}, oldest.value_or(api::Clock::now()), window, to_quantity(what, evaluated(what, expression, values))}};
}

std::vector<api::CustomMetricInfo> ComputedProvider::list_custom_metrics() {
  const auto config = config_->get();
  return custom_metric_infos(*config, config->promql_labels, "computed", {});
}

std::vector<api::ExternalMetricInfo> ComputedProvider::list_external_metrics() {
  const auto config = config_->get();
  return external_metric_infos(*config, "computed", {});
}

}  // namespace sma::providers::computed
