#include "lib/hpa/metric_answers.h"

#include <rapidjson/document.h>

#include "lib/api/json_reading.h"
#include "lib/api/quantity.h"
#include "lib/api/timestamp.h"
#include "lib/config/go_duration.h"

namespace sma::hpa {
namespace {

rapidjson::Document parse(std::string_view json, const std::string& what) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject()) throw CalculationError("the " + what + " answer is not a JSON object");
  return doc;
}

const rapidjson::Value* member(const rapidjson::Value& object, const char* name) {
  if (!object.IsObject()) return nullptr;
  const rapidjson::Value* value = api::json_member(object, name);
  return value == nullptr || value->IsNull() ? nullptr : value;
}

std::string text(const rapidjson::Value* value) {
  return value != nullptr && value->IsString() ? std::string(api::json_string(*value)) : std::string{};
}

std::int64_t milli_of(const rapidjson::Value* value, const std::string& what) {
  auto quantity = value && value->IsString() ? api::Quantity::parse(api::json_string(*value)) : std::nullopt;
  auto milli = quantity ? quantity->milli() : std::nullopt;
  if (!milli) throw CalculationError("the " + what + " answer has a value that is not a quantity");
  return *milli;
}

const rapidjson::Value& items_of(const rapidjson::Document& doc, const std::string& what) {
  const rapidjson::Value* items = member(doc, "items");
  static const rapidjson::Value empty(rapidjson::kArrayType);
  if (items == nullptr) return empty;
  if (!items->IsArray()) throw CalculationError("the " + what + " answer's items is not an array");
  return *items;
}

PodMetricValue timed(std::int64_t milli, const rapidjson::Value& item, std::chrono::seconds window) {
  PodMetricValue value;
  value.milli = milli;
  if (auto t = text(member(item, "timestamp")); !t.empty()) value.timestamp = api::parse_rfc3339(t);
  value.window = window;
  return value;
}

}  // namespace

std::int64_t read_object_value(std::string_view json) {
  auto doc = parse(json, "custom metrics");
  const auto& items = items_of(doc, "custom metrics");
  if (items.Size() != 1) {
    throw CalculationError("the custom metrics API server returned " + std::to_string(items.Size()) +
                           " results when we asked for exactly one");
  }
  return milli_of(member(items[0], "value"), "custom metrics");
}

PodMetrics read_pod_values(std::string_view json) {
  auto doc = parse(json, "custom metrics");
  const auto& items = items_of(doc, "custom metrics");
  if (items.Empty()) throw CalculationError("no metrics returned from custom metrics API");
  PodMetrics values;
  for (const auto& item : items.GetArray()) {
    const rapidjson::Value* described = member(item, "describedObject");
    std::string name = described ? text(member(*described, "name")) : "";
    // v1beta2 says windowSeconds, v1beta1 window; the client assumes 1 minute when neither does.
    const rapidjson::Value* window = member(item, "windowSeconds");
    if (window == nullptr) window = member(item, "window");
    std::chrono::seconds seconds = window && window->IsInt64() ? std::chrono::seconds(window->GetInt64())
                                                               : std::chrono::seconds(60);
    values[name] = timed(milli_of(member(item, "value"), "custom metrics"), item, seconds);
  }
  return values;
}

std::vector<std::int64_t> read_external_values(std::string_view json) {
  auto doc = parse(json, "external metrics");
  const auto& items = items_of(doc, "external metrics");
  if (items.Empty()) throw CalculationError("no metrics returned from external metrics API");
  std::vector<std::int64_t> values;
  for (const auto& item : items.GetArray()) values.push_back(milli_of(member(item, "value"), "external metrics"));
  return values;
}

PodMetrics read_resource_usage(std::string_view json, const std::string& resource, const std::string& container) {
  auto doc = parse(json, "resource metrics");
  const auto& items = items_of(doc, "resource metrics");
  if (items.Empty()) throw CalculationError("no metrics returned from resource metrics API");
  PodMetrics values;
  for (const auto& item : items.GetArray()) {
    const rapidjson::Value* metadata = member(item, "metadata");
    std::string name = metadata ? text(member(*metadata, "name")) : "";
    std::chrono::seconds window{30};
    if (auto w = config::parse_go_duration(text(member(item, "window")))) {
      window = std::chrono::duration_cast<std::chrono::seconds>(*w);
    }
    const rapidjson::Value* containers = member(item, "containers");
    if (containers == nullptr || !containers->IsArray() || containers->Empty()) continue;
    std::int64_t sum = 0;
    bool missing = false;
    bool found_container = container.empty();
    for (const auto& c : containers->GetArray()) {
      if (!container.empty() && text(member(c, "name")) != container) continue;
      found_container = true;
      const rapidjson::Value* usage = member(c, "usage");
      const rapidjson::Value* value = usage ? member(*usage, resource.c_str()) : nullptr;
      if (value == nullptr) {
        missing = true;
        break;
      }
      sum += milli_of(value, "resource metrics");
    }
    if (!missing && found_container) values[name] = timed(sum, item, window);
  }
  return values;
}

std::optional<std::string> status_message(std::string_view json) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject() || text(member(doc, "kind")) != "Status") return std::nullopt;
  return text(member(doc, "message"));
}

}  // namespace sma::hpa
