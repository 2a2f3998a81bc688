// Kubernetes label selector: the string grammar of k8s.io/apimachinery/pkg/labels and its
// metav1.LabelSelector JSON form (matchLabels / matchExpressions), used for labelSelector and
// metricLabelSelector.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace sma::api {

using Labels = std::map<std::string, std::string>;
// The value of a label key, or null when the key is absent: for label sets not kept as Labels.
using LabelLookup = std::function<const std::string*(const std::string& key)>;

struct LabelRequirement {
  enum class Operator { Equals, DoubleEquals, NotEquals, In, NotIn, Exists, DoesNotExist };
  std::string key;
  Operator op = Operator::Equals;
  std::vector<std::string> values;  // sorted, unique; one value for (Double)Equals/NotEquals

  bool matches(const Labels& labels) const;
  bool matches_value(const std::string* value) const;  // value: the label's, or null when absent
};

class LabelSelector {
 public:
  // Empty selector: matches everything.
  LabelSelector() = default;

  // Full grammar: a=b, a==b, a!=b, a in (x,y), a notin (x), a, !a, comma = AND, blanks allowed
  // around tokens. Keys must be qualified names ([prefix/]name), values valid label values.
  // Throws SelectorError with a message naming the offending part.
  static LabelSelector parse(std::string_view text);

  bool empty() const { return requirements_.empty(); }
  bool matches(const Labels& labels) const;
  bool matches(const LabelLookup& lookup) const;

  // Sorted by key, as Kubernetes sorts them.
  const std::vector<LabelRequirement>& requirements() const { return requirements_; }

  // The selector as metav1.LabelSelector JSON: {"matchLabels":{...},"matchExpressions":[...]}
  // (empty parts omitted), as metav1.ParseToLabelSelector builds it: = and == go to matchLabels,
  // != becomes NotIn. An empty selector gives "{}".
  std::string to_json() const;

  // Canonical string form (k8s labels.Selector.String()): "a=b,c in (x,y)".
  std::string to_string() const;

 private:
  std::vector<LabelRequirement> requirements_;
};

struct SelectorError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace sma::api
