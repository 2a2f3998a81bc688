// Small helpers for readers of untrusted JSON answers (RapidJSON): UTF-8 checks of a parsed document,
// and the value accessors every reader needs for its messages.
#pragma once

#include <rapidjson/document.h>

#include <string_view>
#include <vector>

namespace sma::api {

// "a string", "an array", ...: what a value is, for "x is not y (it is z)" messages.
inline const char* json_type_name(const rapidjson::Value& v) {
  if (v.IsNull()) return "null";
  if (v.IsBool()) return "a boolean";
  if (v.IsNumber()) return "a number";
  if (v.IsString()) return "a string";
  if (v.IsArray()) return "an array";
  return "an object";
}

inline std::string_view json_string(const rapidjson::Value& v) { return {v.GetString(), v.GetStringLength()}; }

// The member's value, or null when the object has none.
inline const rapidjson::Value* json_member(const rapidjson::Value& object, const char* name) {
  auto it = object.FindMember(name);
  return it == object.MemberEnd() ? nullptr : &it->value;
}

// RapidJSON 1.1.0 validates the raw bytes (kParseValidateEncodingFlag) but decodes a lone low
// surrogate escape such as "\udc00" into bytes that are not UTF-8 (ED B0 80). After a validating
// parse, 0xED followed by A0..BF can only have come from such an escape.
inline bool has_decoded_surrogate(std::string_view text) {
  for (std::size_t i = 0; i + 1 < text.size(); ++i) {
    if (static_cast<unsigned char>(text[i]) == 0xED && static_cast<unsigned char>(text[i + 1]) >= 0xA0) return true;
  }
  return false;
}

// True when every string and member name of a document parsed with kParseValidateEncodingFlag is
// UTF-8. Iterative, like the parse: the document may be deeply nested.
inline bool json_strings_are_utf8(const rapidjson::Value& root) {
  const auto text = [](const rapidjson::Value& v) { return std::string_view(v.GetString(), v.GetStringLength()); };
  std::vector<const rapidjson::Value*> pending{&root};
  while (!pending.empty()) {
    const rapidjson::Value& v = *pending.back();
    pending.pop_back();
    if (v.IsString()) {
      if (has_decoded_surrogate(text(v))) return false;
    } else if (v.IsArray()) {
      for (const auto& element : v.GetArray()) pending.push_back(&element);
    } else if (v.IsObject()) {
      for (const auto& member : v.GetObject()) {
        if (has_decoded_surrogate(text(member.name))) return false;
        pending.push_back(&member.value);
      }
    }
  }
  return true;
}

}  // namespace sma::api
