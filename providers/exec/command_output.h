// What an exec rule's command printed on stdout, read strictly: anything but the documented shapes
// is an error (500), never a guess.
//
//   object query:   one Kubernetes quantity ("1500m", "2", "0.5", "1e3"), blanks around it allowed;
//                   nothing at all means "no value" (404, or the rule's absentAs)
//   selector query: {"items":[{"name":"kuard-1","value":"1500m"}, ...]}
//   external query: {"items":[{"labels":{"queue":"orders"},"value":"42"}, ...]}
//
// A value is a quantity as a JSON string or a JSON number. Names are Kubernetes object names,
// each at most once; labels are valid label keys and values, each label set at most once. Unknown
// keys are errors.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "lib/api/label_selector.h"
#include "lib/api/quantity.h"

namespace sma::providers::exec {

struct OutputError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct NamedValue {
  std::string name;
  api::Quantity value;
};

struct LabelledValue {
  api::Labels labels;
  api::Quantity value;
};

// Each throws OutputError saying what is wrong (with a short, escaped excerpt).
std::optional<api::Quantity> parse_object_output(std::string_view out);
std::vector<NamedValue> parse_selector_output(std::string_view out);
std::vector<LabelledValue> parse_external_output(std::string_view out);

}  // namespace sma::providers::exec
