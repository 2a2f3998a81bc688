// --what-if metric=value,...: values that replace what would be fetched ("at 900 req/s, how many
// pods?"). The value means what the HPA reads for that metric: an Object metric's value, the total
// of an External metric's series, and for Pods and resource metrics the value of every selected
// pod (the per-pod average).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "lib/hpa/metric_reader.h"
#include "lib/hpa/pod_state.h"

namespace sma::hpa {

// "net.http.request.count=900,cpu=250m" -> name -> milli-value. Throws HpaError for a malformed
// list or value.
std::map<std::string, std::int64_t> parse_what_if(const std::string& text);

// The reading the HPA would get if the metric read `milli`.
MetricReading what_if_reading(const MetricSpec& metric, std::int64_t milli, const std::vector<PodState>& pods);

}  // namespace sma::hpa
