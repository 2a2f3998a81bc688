// LabelSelector::parse on arbitrary text. Properties: only SelectorError escapes; a parsed selector
// is well-formed (keys and values valid, sorted by key, value sets sorted and unique, the right
// number of values per operator); parse(to_string()) gives the same requirements and the same
// string again; matching agrees between the two; to_json() is valid JSON of the
// metav1.LabelSelector shape.
#include <rapidjson/document.h>

#include <algorithm>
#include <exception>
#include <set>

#include "lib/api/label_selector.h"
#include "lib/api/names.h"
#include "test/fuzz/fuzz_check.h"

namespace {

using namespace sma;
using fuzz::printable;
using Operator = api::LabelRequirement::Operator;

bool same(const api::LabelRequirement& a, const api::LabelRequirement& b) {
  return a.key == b.key && a.op == b.op && a.values == b.values;
}

void check_well_formed(const api::LabelSelector& s, std::string_view text) {
  const auto& rs = s.requirements();
  for (std::size_t i = 0; i < rs.size(); ++i) {
    const auto& r = rs[i];
    FUZZ_CHECK(!api::check_label_key(r.key), "invalid key accepted in " + printable(text));
    for (const auto& v : r.values) FUZZ_CHECK(!api::check_label_value(v), "invalid value accepted in " + printable(text));
    if (i > 0) FUZZ_CHECK(rs[i - 1].key <= r.key, "requirements not sorted by key: " + printable(text));
    FUZZ_CHECK(std::is_sorted(r.values.begin(), r.values.end()) &&
                   std::adjacent_find(r.values.begin(), r.values.end()) == r.values.end(),
               "values not sorted and unique: " + printable(text));
    switch (r.op) {
      case Operator::Equals:
      case Operator::DoubleEquals:
      case Operator::NotEquals:
        FUZZ_CHECK(r.values.size() == 1, "an exact requirement without exactly one value: " + printable(text));
        break;
      case Operator::In:
      case Operator::NotIn:
        FUZZ_CHECK(!r.values.empty(), "an empty value set: " + printable(text));
        break;
      case Operator::Exists:
      case Operator::DoesNotExist:
        FUZZ_CHECK(r.values.empty(), "an existence requirement with values: " + printable(text));
        break;
    }
  }
}

void check_json(const api::LabelSelector& s, std::string_view text) {
  const std::string json = s.to_json();
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseValidateEncodingFlag>(json.data(), json.size());
  FUZZ_CHECK(!doc.HasParseError(), "to_json() is not JSON: " + printable(json) + " for " + printable(text));
  FUZZ_CHECK(doc.IsObject(), "to_json() is not an object: " + printable(json));
  std::set<std::string> keys;
  for (const auto& r : s.requirements()) keys.insert(r.key);
  std::size_t members = 0;
  if (auto it = doc.FindMember("matchLabels"); it != doc.MemberEnd()) {
    ++members;
    FUZZ_CHECK(it->value.IsObject() && it->value.MemberCount() > 0, "matchLabels shape: " + printable(json));
    for (const auto& m : it->value.GetObject()) {
      FUZZ_CHECK(m.value.IsString(), "matchLabels value not a string: " + printable(json));
      FUZZ_CHECK(keys.count(std::string(m.name.GetString(), m.name.GetStringLength())),
                 "matchLabels key not in the selector: " + printable(json));
    }
  }
  if (auto it = doc.FindMember("matchExpressions"); it != doc.MemberEnd()) {
    ++members;
    FUZZ_CHECK(it->value.IsArray() && !it->value.Empty(), "matchExpressions shape: " + printable(json));
    for (const auto& e : it->value.GetArray()) {
      FUZZ_CHECK(e.IsObject() && e.HasMember("key") && e["key"].IsString() && e.HasMember("operator") &&
                     e["operator"].IsString(),
                 "matchExpressions entry shape: " + printable(json));
      std::string op = e["operator"].GetString();
      FUZZ_CHECK(op == "In" || op == "NotIn" || op == "Exists" || op == "DoesNotExist",
                 "matchExpressions operator " + printable(op));
      FUZZ_CHECK(keys.count(e["key"].GetString()), "matchExpressions key not in the selector: " + printable(json));
      const bool takes_values = op == "In" || op == "NotIn";
      FUZZ_CHECK(e.HasMember("values") == takes_values, "values presence for " + op + ": " + printable(json));
      if (takes_values) FUZZ_CHECK(e["values"].IsArray() && !e["values"].Empty(), "values shape: " + printable(json));
    }
  }
  FUZZ_CHECK(doc.MemberCount() == members, "unexpected members in " + printable(json));
  FUZZ_CHECK(s.empty() == (members == 0), "empty selector vs JSON: " + printable(json));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = fuzz::as_text(data, size);
  api::LabelSelector selector;
  try {
    selector = api::LabelSelector::parse(text);
  } catch (const api::SelectorError& e) {
    FUZZ_CHECK(*e.what() != '\0', "empty SelectorError message");
    return 0;
  } catch (const std::exception& e) {
    FUZZ_CHECK(false, std::string("unexpected exception: ") + e.what() + " for " + printable(text));
  }
  check_well_formed(selector, text);

  const std::string canonical = selector.to_string();
  api::LabelSelector again;
  try {
    again = api::LabelSelector::parse(canonical);
  } catch (const std::exception& e) {
    FUZZ_CHECK(false, "to_string() " + printable(canonical) + " does not parse: " + e.what());
  }
  const auto& a = selector.requirements();
  const auto& b = again.requirements();
  FUZZ_CHECK(a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), same),
             "parse(to_string()) differs: " + printable(text) + " -> " + printable(canonical) + " -> " +
                 printable(again.to_string()));
  FUZZ_CHECK(again.to_string() == canonical, "to_string() is not stable: " + printable(canonical));
  FUZZ_CHECK(again.to_json() == selector.to_json(), "to_json() differs after a round trip: " + printable(canonical));

  // Labels made of the selector's own keys and values, each present or absent: matching must
  // agree between the parsed and the re-parsed selector.
  api::Labels labels;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if ((data[i % size] >> (i % 8)) & 1) continue;
    labels[a[i].key] = a[i].values.empty() ? "" : a[i].values[i % a[i].values.size()];
  }
  FUZZ_CHECK(selector.matches(labels) == again.matches(labels), "matching differs after a round trip: " + printable(canonical));
  if (selector.empty()) FUZZ_CHECK(selector.matches(labels), "the empty selector must match everything");

  check_json(selector, text);
  return 0;
}
