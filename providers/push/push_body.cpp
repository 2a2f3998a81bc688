#include "providers/push/push_body.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <string>

#include "lib/api/names.h"
#include "providers/provider.h"

namespace sma::providers::push {
namespace {

[[noreturn]] void reject(const std::string& message) {
  throw MetricsError(MetricsError::Kind::BadRequest, "invalid value body: " + message);
}

// Integers are taken exactly; other numbers through the shortest decimal that reads back as the
// same double, which is the literal as written for any realistic value (0.58 stays 580m).
api::Quantity quantity_from(const rapidjson::Value& v) {
  if (v.IsNumber()) {
    std::optional<api::Quantity> q;
    if (v.IsInt64()) {
      q = api::Quantity::from_int(v.GetInt64());
    } else if (v.IsUint64()) {
      q = api::Quantity::parse(std::to_string(v.GetUint64()));
    } else {
      q = api::Quantity::from_double(v.GetDouble());
    }
    if (!q) reject("the number is too large to be a Kubernetes quantity");
    return *q;
  }
  if (!v.IsString()) reject("the value must be a quantity string such as \"42\" or \"500m\", or a number");
  std::string text(v.GetString(), v.GetStringLength());
  auto q = api::Quantity::parse(text);
  if (!q) reject("\"" + text + "\" is not a Kubernetes quantity (examples: \"42\", \"500m\", \"1.5k\")");
  return *q;
}

api::Labels labels_from(const rapidjson::Value& v, const char* field) {
  if (!v.IsObject()) reject(std::string("\"") + field + "\" must be an object of string values");
  api::Labels labels;
  for (const auto& m : v.GetObject()) {
    std::string key(m.name.GetString(), m.name.GetStringLength());
    if (!m.value.IsString()) reject(std::string("\"") + field + "\"." + key + " must be a string");
    std::string value(m.value.GetString(), m.value.GetStringLength());
    if (auto problem = api::check_label_key(key)) reject(std::string(field) + ": " + *problem);
    if (auto problem = api::check_label_value(value)) reject(std::string(field) + ": " + *problem);
    labels[key] = value;
  }
  return labels;
}

}  // namespace

PushedValue parse_push_body(std::string_view body) {
  rapidjson::Document doc;
  // Iterative: a body of nested brackets (up to the 1 MiB body limit) must not exhaust the stack.
  doc.Parse<rapidjson::kParseIterativeFlag>(body.data(), body.size());
  if (doc.GetParseError() == rapidjson::kParseErrorNumberTooBig) {
    reject("the number is too large to be a Kubernetes quantity");
  }
  if (doc.HasParseError()) {
    reject(std::string("not JSON (") + rapidjson::GetParseError_En(doc.GetParseError()) + " at offset " +
           std::to_string(doc.GetErrorOffset()) + ")");
  }
  if (doc.IsString() || doc.IsNumber()) return {quantity_from(doc), {}, {}};
  if (!doc.IsObject()) reject("expected a quantity string, a number or an object with \"value\"");

  PushedValue pushed;
  bool has_value = false;
  for (const auto& m : doc.GetObject()) {
    std::string_view name(m.name.GetString(), m.name.GetStringLength());
    if (name == "value") {
      pushed.value = quantity_from(m.value);
      has_value = true;
    } else if (name == "labels") {
      pushed.labels = labels_from(m.value, "labels");
    } else if (name == "metricLabels") {
      pushed.metric_labels = labels_from(m.value, "metricLabels");
    } else {
      reject("unknown field \"" + std::string(name) + "\" (expected value, labels, metricLabels)");
    }
  }
  if (!has_value) reject("the object has no \"value\"");
  return pushed;
}

}  // namespace sma::providers::push
