// The simulation's answer for people (a table with the reasoning under each metric) and for
// scripts (one JSON document with the same facts).
#pragma once

#include <string>

#include "lib/hpa/simulation.h"

namespace sma::hpa {

struct ReportContext {
  std::string source;          // "providers" or "api", with where it points
  std::string scale_target;    // "Deployment/kuard"
  std::string kubernetes;      // the version whose arithmetic was followed, e.g. "1.33"
};

std::string write_table(const Decision& decision, const ReportContext& context);
std::string write_json(const Decision& decision, const ReportContext& context);

}  // namespace sma::hpa
