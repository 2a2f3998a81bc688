// Sysdig's legacy metric ids are dotted ("net.http.request.count") and are what users type in their
// HPAs. Sysdig's PromQL API names the same container-level metric by its documented convention:
// "sysdig_container_" + the id with dots as underscores. Names that are already PromQL names
// (no dot) are used as they are; a rule's `series` overrides both.
#pragma once

#include <string>

namespace sma::providers::promql {

std::string sysdig_promql_name(const std::string& metric);

}  // namespace sma::providers::promql
