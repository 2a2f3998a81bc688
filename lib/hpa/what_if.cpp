#include "lib/hpa/what_if.h"

#include "lib/api/quantity.h"
#include "lib/hpa/hpa_spec.h"

namespace sma::hpa {

std::map<std::string, std::int64_t> parse_what_if(const std::string& text) {
  std::map<std::string, std::int64_t> values;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t comma = text.find(',', start);
    std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    start = comma == std::string::npos ? text.size() + 1 : comma + 1;
    if (item.empty()) continue;
    std::size_t eq = item.rfind('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == item.size()) {
      throw HpaError("--what-if \"" + item + "\" is not metric=value");
    }
    auto quantity = api::Quantity::parse(item.substr(eq + 1));
    auto milli = quantity ? quantity->milli() : std::nullopt;
    if (!milli || *milli < 0) {
      throw HpaError("--what-if value \"" + item.substr(eq + 1) + "\" is not a non-negative quantity (900, 1.5, 250m, 2k)");
    }
    values[item.substr(0, eq)] = *milli;
  }
  return values;
}

MetricReading what_if_reading(const MetricSpec& metric, std::int64_t milli, const std::vector<PodState>& pods) {
  MetricReading reading;
  reading.what_if = true;
  switch (metric.type) {
    case MetricType::Object: reading.object_milli = milli; break;
    case MetricType::External: reading.external_milli = {milli}; break;
    case MetricType::Pods:
    case MetricType::Resource:
    case MetricType::ContainerResource:
      for (const auto& pod : pods) {
        if (pod.phase == "Running" && !pod.deleting) reading.pod_values[pod.name] = PodMetricValue{milli, std::nullopt, {}};
      }
      break;
  }
  return reading;
}

}  // namespace sma::hpa
