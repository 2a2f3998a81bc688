#include "providers/sysdig_data/data_api_response.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <charconv>
#include <cmath>

#include "lib/api/json_reading.h"
#include "lib/api/message_text.h"

namespace sma::providers::sysdig_data {
namespace {

using rapidjson::Value;

constexpr std::size_t kMaxExcerptBytes = 60;   // of a body that is not JSON
constexpr std::size_t kMaxMessageBytes = 200;  // of Sysdig's own error text

// Iterative parsing keeps a deeply nested body from exhausting the stack; invalid UTF-8 is refused
// so keys stay text. NaN/Infinity literals are let through so that such a value drops its row
// instead of failing the whole answer.
constexpr unsigned kParseFlags =
    rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag | rapidjson::kParseNanAndInfFlag;

[[noreturn]] void malformed(const std::string& message) { throw DataApiResponseError(message); }

std::string excerpt(std::string_view body) { return api::escaped_excerpt(body, kMaxExcerptBytes); }

std::string truncated(std::string_view text, std::size_t max_bytes) { return api::utf8_prefix(text, max_bytes); }

[[noreturn]] void wrong_type(const std::string& place, const char* expected, const Value& actual) {
  malformed(place + " is not " + expected + " (it is " + api::json_type_name(actual) + ")");
}

std::string_view string_of(const Value& v) { return api::json_string(v); }

const Value* find_member(const Value& object, const char* name) { return api::json_member(object, name); }

const Value& required_member(const Value& object, const std::string& place, const char* name) {
  const Value* v = find_member(object, name);
  if (v == nullptr) malformed(place + " has no \"" + name + "\"");
  return *v;
}

std::int64_t integer_of(const Value& v, const std::string& place) {
  if (!v.IsInt64()) wrong_type(place, "an integer", v);
  return v.GetInt64();
}

rapidjson::Document parse_json(std::string_view body) {
  rapidjson::Document doc;
  doc.Parse<kParseFlags>(body.data(), body.size());
  if (doc.HasParseError()) {
    malformed(std::string("the backend answer is not JSON: ") + rapidjson::GetParseError_En(doc.GetParseError()) +
              " (at byte " + std::to_string(doc.GetErrorOffset()) + "; it starts \"" + excerpt(body) + "\")");
  }
  if (!doc.IsObject()) wrong_type("the answer", "an object", doc);
  if (!api::json_strings_are_utf8(doc)) {
    malformed("the backend answer holds a string that is not UTF-8 (a lone surrogate escape)");
  }
  return doc;
}

// Sysdig writes some key values (ports, ids) as numbers and missing ones as null.
std::string key_text(const Value& v, const std::string& place) {
  if (v.IsString()) return std::string(string_of(v));
  if (v.IsNull()) return "";
  if (v.IsInt64()) return std::to_string(v.GetInt64());
  if (v.IsUint64()) return std::to_string(v.GetUint64());
  if (v.IsDouble()) {
    char buffer[32];
    auto result = std::to_chars(buffer, buffer + sizeof buffer, v.GetDouble());
    return std::string(buffer, result.ptr);
  }
  wrong_type(place, "a string, number or null", v);
}

// One {"t":..,"d":[keys..., value]}; nullopt when the row has no finite value.
std::optional<DataRow> read_row(const Value& entry, const std::string& place, std::size_t key_count) {
  if (!entry.IsObject()) wrong_type(place, "an object", entry);
  DataRow row;
  row.t = integer_of(required_member(entry, place, "t"), place + ".t");
  const Value& d = required_member(entry, place, "d");
  if (!d.IsArray()) wrong_type(place + ".d", "an array", d);
  if (d.Size() < key_count || d.Size() > key_count + 1) {
    malformed(place + ".d has " + std::to_string(d.Size()) + " elements, expected " + std::to_string(key_count) +
              " keys and a value");
  }
  row.keys.reserve(key_count);
  for (rapidjson::SizeType i = 0; i < key_count; ++i) {
    row.keys.push_back(key_text(d[i], place + ".d[" + std::to_string(i) + "]"));
  }
  if (d.Size() == key_count) return std::nullopt;  // the value is missing
  const Value& value = d[static_cast<rapidjson::SizeType>(key_count)];
  if (value.IsNull()) return std::nullopt;
  if (!value.IsNumber()) wrong_type(place + ".d[" + std::to_string(key_count) + "]", "a number or null", value);
  row.value = value.GetDouble();
  if (!std::isfinite(row.value)) return std::nullopt;
  return row;
}

}  // namespace

std::vector<DataRow> parse_data_response(std::string_view body, std::size_t key_count) {
  rapidjson::Document doc = parse_json(body);
  // start/end are not used, but when present they must be what Sysdig documents.
  for (const char* name : {"start", "end"}) {
    if (const Value* v = find_member(doc, name)) integer_of(*v, name);
  }
  const Value& data = required_member(doc, "the answer", "data");
  if (!data.IsArray()) wrong_type("data", "an array", data);
  std::vector<DataRow> rows;
  rows.reserve(data.Size());
  for (rapidjson::SizeType i = 0; i < data.Size(); ++i) {
    if (auto row = read_row(data[i], "data[" + std::to_string(i) + "]", key_count)) rows.push_back(std::move(*row));
  }
  return rows;
}

std::optional<std::string> parse_error_message(std::string_view body) {
  rapidjson::Document doc;
  doc.Parse<kParseFlags>(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsObject() || !api::json_strings_are_utf8(doc)) return std::nullopt;
  const Value* message = find_member(doc, "message");
  if (message != nullptr && message->IsString() && message->GetStringLength() > 0) {
    return truncated(string_of(*message), kMaxMessageBytes);
  }
  // The v2 APIs answer {"errors":[{"message":...}, ...]}: every message, joined.
  const Value* errors = find_member(doc, "errors");
  if (errors == nullptr || !errors->IsArray()) return std::nullopt;
  std::string joined;
  for (const auto& error : errors->GetArray()) {
    if (!error.IsObject()) continue;
    const Value* text = find_member(error, "message");
    if (text == nullptr || !text->IsString() || text->GetStringLength() == 0) continue;
    if (!joined.empty()) joined += "; ";
    joined += string_of(*text);
    if (joined.size() > kMaxMessageBytes) break;
  }
  if (joined.empty()) return std::nullopt;
  return truncated(joined, kMaxMessageBytes);
}

DescriptorPage parse_descriptors_response(std::string_view body) {
  rapidjson::Document doc = parse_json(body);
  DescriptorPage page;
  page.total = integer_of(required_member(doc, "the answer", "total"), "total");
  if (const Value* offset = find_member(doc, "offset")) integer_of(*offset, "offset");
  const Value& list = required_member(doc, "the answer", "metricDescriptors");
  if (!list.IsArray()) wrong_type("metricDescriptors", "an array", list);
  page.descriptors.reserve(list.Size());
  for (rapidjson::SizeType i = 0; i < list.Size(); ++i) {
    std::string place = "metricDescriptors[" + std::to_string(i) + "]";
    const Value& entry = list[i];
    if (!entry.IsObject()) wrong_type(place, "an object", entry);
    MetricDescriptor descriptor;
    const Value& id = required_member(entry, place, "id");
    if (!id.IsString()) wrong_type(place + ".id", "a string", id);
    descriptor.id = std::string(string_of(id));
    // metricType is informational; a descriptor without one is still a metric.
    if (const Value* type = find_member(entry, "metricType")) {
      if (!type->IsString()) wrong_type(place + ".metricType", "a string", *type);
      descriptor.metric_type = std::string(string_of(*type));
    }
    page.descriptors.push_back(std::move(descriptor));
  }
  return page;
}

}  // namespace sma::providers::sysdig_data
