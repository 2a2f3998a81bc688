#include "providers/exec/command_output.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <set>

#include "lib/api/json_reading.h"
#include "lib/api/message_text.h"
#include "lib/api/names.h"

namespace sma::providers::exec {
namespace {

constexpr std::size_t kExcerpt = 80;

bool blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view trimmed(std::string_view text) {
  while (!text.empty() && blank(text.front())) text.remove_prefix(1);
  while (!text.empty() && blank(text.back())) text.remove_suffix(1);
  return text;
}

[[noreturn]] void fail(const std::string& problem) { throw OutputError(problem); }

// Iterative parsing (a command's output may nest as deep as it likes), strings checked to be UTF-8.
rapidjson::Document parse_json(std::string_view out) {
  rapidjson::Document doc;
  constexpr unsigned kFlags = rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag;
  doc.Parse<kFlags>(out.data(), out.size());
  if (doc.HasParseError()) {
    fail(std::string("the output is not JSON (") + rapidjson::GetParseError_En(doc.GetParseError()) + " at byte " +
         std::to_string(doc.GetErrorOffset()) + "): " + api::escaped_excerpt(out, kExcerpt));
  }
  if (!api::json_strings_are_utf8(doc)) fail("the output holds a string that is not UTF-8");
  if (!doc.IsObject()) fail(std::string("the output is ") + api::json_type_name(doc) + ", not an object with \"items\"");
  return doc;
}

void only_keys(const rapidjson::Value& object, std::initializer_list<const char*> allowed, const std::string& where) {
  for (const auto& member : object.GetObject()) {
    bool known = false;
    for (const char* key : allowed) known = known || api::json_string(member.name) == key;
    if (!known) {
      fail("unknown key " + api::quoted_for_message(api::json_string(member.name)) + " in " + where);
    }
  }
}

const rapidjson::Value& items_of(const rapidjson::Document& doc) {
  only_keys(doc, {"items"}, "the output");
  const auto* items = api::json_member(doc, "items");
  if (items == nullptr) fail("the output has no \"items\"");
  if (!items->IsArray()) fail(std::string("\"items\" is ") + api::json_type_name(*items) + ", not an array");
  return *items;
}

api::Quantity value_of(const rapidjson::Value& item, const std::string& where) {
  const auto* value = api::json_member(item, "value");
  if (value == nullptr) fail(where + " has no \"value\"");
  if (value->IsNumber()) {
    // The shortest decimal that reads back as the same double: 0.58 is 580m.
    auto q = api::Quantity::from_double(value->GetDouble());
    if (!q) fail(where + ": \"value\" does not fit a Kubernetes quantity");
    return *q;
  }
  if (!value->IsString()) fail(where + ": \"value\" is " + std::string(api::json_type_name(*value)) + ", not a quantity");
  auto q = api::Quantity::parse(api::json_string(*value));
  if (!q) fail(where + ": \"value\" " + api::quoted_for_message(api::json_string(*value)) + " is not a Kubernetes quantity");
  return *q;
}

}  // namespace

std::optional<api::Quantity> parse_object_output(std::string_view out) {
  std::string_view text = trimmed(out);
  if (text.empty()) return std::nullopt;
  auto q = api::Quantity::parse(text);
  if (!q) {
    fail("the output is not one Kubernetes quantity (such as 42, 0.5 or 1500m): " +
         api::escaped_excerpt(text, kExcerpt));
  }
  return q;
}

std::vector<NamedValue> parse_selector_output(std::string_view out) {
  auto doc = parse_json(out);
  const auto& items = items_of(doc);
  std::vector<NamedValue> values;
  std::set<std::string> seen;
  for (rapidjson::SizeType i = 0; i < items.Size(); ++i) {
    const std::string where = "items[" + std::to_string(i) + "]";
    const auto& item = items[i];
    if (!item.IsObject()) fail(where + " is " + std::string(api::json_type_name(item)) + ", not an object");
    only_keys(item, {"name", "value"}, where);
    const auto* name = api::json_member(item, "name");
    if (name == nullptr || !name->IsString()) fail(where + " has no \"name\" string");
    std::string object(api::json_string(*name));
    if (auto problem = api::check_object_name(object)) fail(where + ": " + *problem);
    if (!seen.insert(object).second) fail(where + ": " + object + " is listed twice");
    values.push_back({object, value_of(item, where)});
  }
  return values;
}

std::vector<LabelledValue> parse_external_output(std::string_view out) {
  auto doc = parse_json(out);
  const auto& items = items_of(doc);
  std::vector<LabelledValue> values;
  std::set<api::Labels> seen;
  for (rapidjson::SizeType i = 0; i < items.Size(); ++i) {
    const std::string where = "items[" + std::to_string(i) + "]";
    const auto& item = items[i];
    if (!item.IsObject()) fail(where + " is " + std::string(api::json_type_name(item)) + ", not an object");
    only_keys(item, {"labels", "value"}, where);
    api::Labels labels;
    if (const auto* object = api::json_member(item, "labels")) {
      if (!object->IsObject()) fail(where + ": \"labels\" is " + std::string(api::json_type_name(*object)) + ", not an object");
      for (const auto& member : object->GetObject()) {
        std::string key(api::json_string(member.name));
        if (auto problem = api::check_label_key(key)) fail(where + ": " + *problem);
        if (!member.value.IsString()) fail(where + ": label " + key + " is not a string");
        std::string value(api::json_string(member.value));
        if (auto problem = api::check_label_value(value)) fail(where + ": " + *problem);
        if (!labels.emplace(key, value).second) fail(where + ": label " + key + " is given twice");
      }
    }
    if (!seen.insert(labels).second) fail(where + ": the same labels are listed twice");
    values.push_back({std::move(labels), value_of(item, where)});
  }
  return values;
}

}  // namespace sma::providers::exec
