// The body of a /write-metrics or /write-external-metrics request.
#pragma once

#include <string_view>

#include "lib/api/label_selector.h"
#include "lib/api/quantity.h"

namespace sma::providers::push {

struct PushedValue {
  api::Quantity value;
  api::Labels labels;         // the described object's labels (object writes only)
  api::Labels metric_labels;  // the series' labels
};

// Accepts a JSON quantity string ("500m"), a JSON number (0.5) or
// {"value": "42" | 42, "labels": {...}, "metricLabels": {...}}. Anything else throws
// MetricsError(BadRequest) with the reason.
PushedValue parse_push_body(std::string_view body);

}  // namespace sma::providers::push
