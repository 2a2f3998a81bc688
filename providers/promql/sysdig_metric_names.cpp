#include "providers/promql/sysdig_metric_names.h"

#include <algorithm>

namespace sma::providers::promql {

std::string sysdig_promql_name(const std::string& metric) {
  if (metric.find('.') == std::string::npos) return metric;
  std::string name = "sysdig_container_" + metric;
  std::replace(name.begin(), name.end(), '.', '_');
  return name;
}

}  // namespace sma::providers::promql
