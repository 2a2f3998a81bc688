// The labels of many pods, each distinct key and value stored once: the pods of a workload carry the
// same keys and mostly the same values, so a namespace of 10,000 pods needs a few hundred strings.
#pragma once

#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "lib/api/label_selector.h"

namespace sma::kube {

// Sorted by key; the pointers point into the LabelInterner that made them.
using InternedLabels = std::vector<std::pair<const std::string*, const std::string*>>;

class LabelInterner {
 public:
  InternedLabels intern(const api::Labels& labels);
  InternedLabels intern(const InternedLabels& labels);  // from another interner
  std::size_t size() const { return strings_.size(); }

 private:
  const std::string* intern(const std::string& text);

  std::unordered_set<std::string> strings_;  // node-based: pointers stay valid as it grows
};

// The value of `key`, or null when absent.
const std::string* label_value(const InternedLabels& labels, const std::string& key);

}  // namespace sma::kube
