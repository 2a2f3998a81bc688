// How providers learn which pods a label selector picks: from the Kubernetes API (or, later, a
// watch-based cache). Empty when no Kubernetes API is configured.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "lib/api/label_selector.h"

namespace sma::providers {

struct PodRef {
  std::string name;
  api::Labels labels;
};

// Throws MetricsError (Unavailable when the API cannot be reached).
using PodLister = std::function<std::vector<PodRef>(const std::string& namespace_, const api::LabelSelector& selector)>;

}  // namespace sma::providers
