// The whole contract between serving the metrics APIs and knowing metrics. A provider never sees
// HTTP and the server never sees a backend. Queries arrive validated (names, selectors); a
// provider answers values or throws MetricsError, which the server maps to a Status in one place.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "lib/api/deadline.h"
#include "lib/api/label_selector.h"
#include "lib/api/metric_types.h"

namespace sma::providers {

// One named object: namespaces/{ns}/{resource}/{name}/{metric}, {resource}/{name}/{metric}
// (namespace_ empty) or namespaces/{ns}/metrics/{metric} (resource "namespaces", name = ns,
// namespace_ empty, as Kubernetes addresses the namespace object itself).
struct ObjectQuery {
  std::string namespace_;
  api::GroupResource resource;
  std::string name;
  std::string metric;
  api::LabelSelector metric_selector;
  api::Deadline deadline;  // the API request's; unbounded for callers without one
};

// Every object of a resource matching a selector: {resource}/*/{metric}?labelSelector=...
struct SelectorQuery {
  std::string namespace_;  // empty for root scope
  api::GroupResource resource;
  api::LabelSelector object_selector;
  std::string metric;
  api::LabelSelector metric_selector;
  api::Deadline deadline;
};

// external.metrics.k8s.io: namespaces/{ns}/{metric}?labelSelector=... (selects series labels).
struct ExternalQuery {
  std::string namespace_;
  std::string metric;
  api::LabelSelector metric_selector;
  api::Deadline deadline;
};

class MetricsError : public std::runtime_error {
 public:
  enum class Kind {
    NotFound,     // 404: no such metric / object / series
    BadRequest,   // 400: the query cannot be expressed
    Unavailable,  // 503: the backend is down, slow or rejected our credentials
    Internal,     // 500: the backend answered something we cannot read
    Timeout,      // 504: the request's deadline (--request-timeout) passed before an answer
  };
  MetricsError(Kind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  Kind kind() const { return kind_; }

 private:
  Kind kind_;
};

class MetricsProvider {
 public:
  virtual ~MetricsProvider() = default;

  // Discovery. Must answer from what is already known: never block on a backend.
  virtual std::vector<api::CustomMetricInfo> list_custom_metrics() = 0;
  virtual std::vector<api::ExternalMetricInfo> list_external_metrics() = 0;

  // Exactly one value, or MetricsError(NotFound).
  virtual api::MetricValue get_metric_by_name(const ObjectQuery& query) = 0;
  // One value per matching object that has data; may be empty.
  virtual std::vector<api::MetricValue> get_metric_by_selector(const SelectorQuery& query) = 0;
  virtual std::vector<api::ExternalMetricValue> get_external_metric(const ExternalQuery& query) = 0;
};

}  // namespace sma::providers

namespace sma::providers {

// Backends that accept written values (push) also implement this. The body is the raw request
// body; a bad one throws MetricsError(BadRequest) and stores nothing.
class MetricsWriter {
 public:
  virtual ~MetricsWriter() = default;
  virtual void write_object_value(const ObjectQuery& target, std::string_view body) = 0;
  virtual void write_external_value(const std::string& namespace_, const std::string& metric,
                                    std::string_view body) = 0;
};

}  // namespace sma::providers
