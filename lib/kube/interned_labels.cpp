#include "lib/kube/interned_labels.h"

#include <algorithm>

namespace sma::kube {

const std::string* LabelInterner::intern(const std::string& text) { return &*strings_.insert(text).first; }

InternedLabels LabelInterner::intern(const api::Labels& labels) {
  InternedLabels out;
  out.reserve(labels.size());
  for (const auto& [key, value] : labels) out.emplace_back(intern(key), intern(value));  // a map is sorted
  return out;
}

InternedLabels LabelInterner::intern(const InternedLabels& labels) {
  InternedLabels out;
  out.reserve(labels.size());
  for (const auto& [key, value] : labels) out.emplace_back(intern(*key), intern(*value));
  return out;
}

const std::string* label_value(const InternedLabels& labels, const std::string& key) {
  const auto found = std::lower_bound(labels.begin(), labels.end(), key,
                                      [](const auto& label, const std::string& wanted) { return *label.first < wanted; });
  return found != labels.end() && *found->first == key ? found->second : nullptr;
}

}  // namespace sma::kube
