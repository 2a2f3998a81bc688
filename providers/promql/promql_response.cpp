#include "providers/promql/promql_response.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <string>

#include "lib/api/json_reading.h"
#include "lib/api/message_text.h"

namespace sma::providers::promql {
namespace {

using Kind = PromqlResponseError::Kind;
using rapidjson::Value;

constexpr std::size_t kMaxShownBytes = 40;        // a label name or status quoted in a message
constexpr std::size_t kMaxExcerptBytes = 60;      // of a body that is not JSON
constexpr std::size_t kMaxApiErrorBytes = 200;    // the backend's own "error" text
constexpr std::size_t kMaxErrorTypeBytes = 40;

[[noreturn]] void malformed(const std::string& message) { throw PromqlResponseError(Kind::Malformed, "", message); }

std::string shown(std::string_view text, std::size_t max_bytes = kMaxShownBytes) {
  return api::escaped_excerpt(text, max_bytes);
}

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

// Iterative parsing keeps a deeply nested body from exhausting the stack; invalid UTF-8 is refused
// so label values stay text that can be written back out as JSON.
rapidjson::Document parse_json(std::string_view body) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag>(body.data(), body.size());
  if (doc.HasParseError()) {
    malformed(std::string("the backend answer is not JSON: ") + rapidjson::GetParseError_En(doc.GetParseError()) +
              " (at byte " + std::to_string(doc.GetErrorOffset()) + "; it starts \"" +
              shown(body, kMaxExcerptBytes) + "\")");
  }
  if (!api::json_strings_are_utf8(doc)) {
    malformed("the backend answer holds a string that is not UTF-8 (a lone surrogate escape)");
  }
  return doc;
}

// The "data" of a success envelope; an error envelope becomes a PromqlResponseError of kind Api.
// "warnings" and "infos" are informational and ignored.
const Value& success_data(const rapidjson::Document& doc) {
  if (!doc.IsObject()) wrong_type("the answer", "an object", doc);
  const Value& status = required_member(doc, "the answer", "status");
  if (!status.IsString()) wrong_type("status", "a string", status);
  if (string_of(status) == "error") {
    const Value* error = find_member(doc, "error");
    if (error == nullptr || !error->IsString()) malformed("an error answer has no \"error\" string");
    const Value* type = find_member(doc, "errorType");
    std::string error_type = type != nullptr && type->IsString() ? truncated(string_of(*type), kMaxErrorTypeBytes) : "";
    throw PromqlResponseError(Kind::Api, std::move(error_type), truncated(string_of(*error), kMaxApiErrorBytes));
  }
  if (string_of(status) != "success") {
    malformed("status is \"" + shown(string_of(status)) + "\", not \"success\" or \"error\"");
  }
  return required_member(doc, "the answer", "data");
}

// [<unix seconds>, "<value>"]
void read_sample_pair(const Value& pair, const std::string& place, PromqlSample& sample) {
  if (!pair.IsArray()) wrong_type(place, "an array", pair);
  if (pair.Size() != 2) malformed(place + " has " + std::to_string(pair.Size()) + " elements, not 2");
  if (!pair[0].IsNumber()) wrong_type(place + "[0]", "a number", pair[0]);
  if (!pair[1].IsString()) wrong_type(place + "[1]", "a string", pair[1]);
  sample.timestamp = pair[0].GetDouble();
  sample.value = std::string(string_of(pair[1]));  // "NaN", "+Inf" stay text for the caller to judge
}

api::Labels read_labels(const Value& metric, const std::string& place) {
  if (!metric.IsObject()) wrong_type(place, "an object", metric);
  api::Labels labels;
  for (auto it = metric.MemberBegin(); it != metric.MemberEnd(); ++it) {
    std::string name(string_of(it->name));
    if (!it->value.IsString()) wrong_type(place + "[\"" + shown(name) + "\"]", "a string", it->value);
    if (!labels.emplace(name, string_of(it->value)).second) {
      malformed(place + " has the label \"" + shown(name) + "\" twice");
    }
  }
  return labels;
}

std::vector<PromqlSample> read_vector(const Value& result) {
  if (!result.IsArray()) wrong_type("data.result", "an array", result);
  std::vector<PromqlSample> samples;
  samples.reserve(result.Size());
  for (rapidjson::SizeType i = 0; i < result.Size(); ++i) {
    std::string place = "data.result[" + std::to_string(i) + "]";
    const Value& entry = result[i];
    if (!entry.IsObject()) wrong_type(place, "an object", entry);
    PromqlSample sample;
    sample.labels = read_labels(required_member(entry, place, "metric"), place + ".metric");
    read_sample_pair(required_member(entry, place, "value"), place + ".value", sample);
    samples.push_back(std::move(sample));
  }
  return samples;
}

}  // namespace

std::vector<PromqlSample> parse_instant_query_response(std::string_view body) {
  // A NUL is never part of JSON text; saying where it is beats a parser error about what follows it.
  if (const auto nul = body.find('\0'); nul != std::string_view::npos) {
    malformed("the backend answer is not JSON: a NUL byte (at byte " + std::to_string(nul) + "; it starts \"" +
              shown(body, kMaxExcerptBytes) + "\")");
  }
  rapidjson::Document doc = parse_json(body);
  const Value& data = success_data(doc);
  if (!data.IsObject()) wrong_type("data", "an object", data);
  const Value& type = required_member(data, "data", "resultType");
  if (!type.IsString()) wrong_type("data.resultType", "a string", type);
  const Value& result = required_member(data, "data", "result");
  if (string_of(type) == "vector") return read_vector(result);
  if (string_of(type) == "scalar") {
    PromqlSample sample;
    read_sample_pair(result, "data.result", sample);
    return {std::move(sample)};
  }
  malformed("data.resultType is \"" + shown(string_of(type)) + "\"; an instant query answers \"vector\" or \"scalar\"");
}

std::vector<std::string> parse_label_values_response(std::string_view body) {
  rapidjson::Document doc = parse_json(body);
  const Value& data = success_data(doc);
  if (!data.IsArray()) wrong_type("data", "an array", data);
  std::vector<std::string> values;
  values.reserve(data.Size());
  for (rapidjson::SizeType i = 0; i < data.Size(); ++i) {
    if (!data[i].IsString()) wrong_type("data[" + std::to_string(i) + "]", "a string", data[i]);
    values.emplace_back(string_of(data[i]));
  }
  return values;
}

}  // namespace sma::providers::promql
