#include "providers/sysdig_data/data_api_request.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <array>
#include <stdexcept>

namespace sma::providers::sysdig_data {
namespace {

constexpr long long kMaxSamples = 600;  // Sysdig refuses more than 600 samples per request
constexpr std::array<std::string_view, 4> kTimeAggregations = {"timeAvg", "sum", "max", "min"};
constexpr std::array<std::string_view, 4> kGroupAggregations = {"sum", "avg", "max", "min"};

bool is_one_of(std::string_view value, const std::array<std::string_view, 4>& allowed) {
  for (auto a : allowed) {
    if (a == value) return true;
  }
  return false;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// [A-Za-z_][A-Za-z0-9_.\-/]*: Sysdig ids (kubernetes.pod.name) and user tags; none of these
// characters means anything to the filter language. Its keywords are refused as names.
void check_label_id(std::string_view label) {
  auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  bool valid = !label.empty() && letter(label.front());
  // Sysdig label ids are dotted words (kubernetes.pod.name, agent.tag.team); '-' and '/' are not
  // part of the filter language's identifiers.
  for (char c : label) valid = valid && (letter(c) || digit(c) || c == '.');
  if (!valid) {
    throw std::invalid_argument("'" + std::string(label) +
                                "' cannot be used as a Sysdig label in a Data API filter ([A-Za-z_][A-Za-z0-9_.]*)");
  }
  for (std::string_view keyword : {"and", "or", "not", "in"}) {
    if (equals_ignoring_case(label, keyword)) {
      throw std::invalid_argument("'" + std::string(label) + "' is a Data API filter keyword, not a label");
    }
  }
}

// The length of the UTF-8 sequence a lead byte starts, 0 for a byte that cannot lead one.
std::size_t utf8_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return 2;
  if (lead >= 0xE0 && lead <= 0xEF) return 3;
  if (lead >= 0xF0 && lead <= 0xF4) return 4;
  return 0;
}

// Well-formed UTF-8 (RFC 3629): the body is JSON, which must be UTF-8 text.
bool is_valid_utf8(std::string_view text) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  for (std::size_t i = 0; i < text.size();) {
    unsigned char lead = byte(i);
    std::size_t length = utf8_length(lead);
    if (length == 0 || i + length > text.size()) return false;
    for (std::size_t k = 1; k < length; ++k) {
      if ((byte(i + k) & 0xC0) != 0x80) return false;
    }
    if (length == 3 && lead == 0xE0 && byte(i + 1) < 0xA0) return false;   // overlong
    if (length == 3 && lead == 0xED && byte(i + 1) >= 0xA0) return false;  // surrogate
    if (length == 4 && lead == 0xF0 && byte(i + 1) < 0x90) return false;   // overlong
    if (length == 4 && lead == 0xF4 && byte(i + 1) >= 0x90) return false;  // above U+10FFFF
    i += length;
  }
  return true;
}

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void write_string(Writer& w, std::string_view s) { w.String(s.data(), static_cast<rapidjson::SizeType>(s.size())); }
void write_key(Writer& w, std::string_view k) { w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size())); }

void check_query(const DataApiQuery& query) {
  if (query.metric_id.empty()) throw std::invalid_argument("a Data API query needs a metric id");
  if (!is_valid_utf8(query.metric_id) || !is_valid_utf8(query.data_source_type)) {
    throw std::invalid_argument("a Data API metric id and data source type must be valid UTF-8");
  }
  if (query.data_source_type.empty()) throw std::invalid_argument("a Data API query needs a data source type");
  for (const auto& key : query.segment_by) check_label_id(key);
  if (!is_one_of(query.time_aggregation, kTimeAggregations)) {
    throw std::invalid_argument("'" + query.time_aggregation +
                                "' is not a Data API time aggregation (timeAvg, sum, max, min)");
  }
  if (!is_one_of(query.group_aggregation, kGroupAggregations)) {
    throw std::invalid_argument("'" + query.group_aggregation +
                                "' is not a Data API group aggregation (sum, avg, max, min)");
  }
  if (query.last_seconds < 1 || query.sampling_seconds < 1) {
    throw std::invalid_argument("Data API last and sampling must be positive numbers of seconds (last " +
                                std::to_string(query.last_seconds) + ", sampling " +
                                std::to_string(query.sampling_seconds) + ")");
  }
  long long samples = (query.last_seconds + query.sampling_seconds - 1) / query.sampling_seconds;
  if (samples > kMaxSamples) {
    throw std::invalid_argument("a Data API query may ask for at most 600 samples, not " + std::to_string(samples) +
                                " (last " + std::to_string(query.last_seconds) + "s, sampling " +
                                std::to_string(query.sampling_seconds) + "s)");
  }
  if (query.paging_to && *query.paging_to < 0) {
    throw std::invalid_argument("Data API paging must end at a non-negative index, not " +
                                std::to_string(*query.paging_to));
  }
}

}  // namespace

std::string quote_filter_value(std::string_view value) {
  if (!is_valid_utf8(value)) throw std::invalid_argument("a Data API filter value must be valid UTF-8");
  std::string out;
  out.reserve(value.size() + 2);
  out += '\'';
  for (char c : value) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  out += '\'';
  return out;
}

std::string filter_text(const std::vector<FilterClause>& clauses) {
  std::string out;
  for (const auto& clause : clauses) {
    check_label_id(clause.label);
    if (!out.empty()) out += " and ";
    out += clause.label;
    switch (clause.op) {
      case FilterClause::Op::Equal:
      case FilterClause::Op::NotEqual:
        if (clause.values.size() != 1) {
          throw std::invalid_argument("the Data API filter clause on '" + clause.label + "' needs exactly one value");
        }
        out += clause.op == FilterClause::Op::Equal ? " = " : " != ";
        out += quote_filter_value(clause.values.front());
        break;
      case FilterClause::Op::In:
      case FilterClause::Op::NotIn:
        // "in ()" is not part of the language; an empty set would have to mean "nothing".
        if (clause.values.empty()) {
          throw std::invalid_argument("the Data API filter clause on '" + clause.label + "' has an empty value set");
        }
        out += clause.op == FilterClause::Op::In ? " in (" : " not in (";
        for (std::size_t i = 0; i < clause.values.size(); ++i) {
          if (i > 0) out += ", ";
          out += quote_filter_value(clause.values[i]);
        }
        out += ')';
        break;
    }
  }
  return out;
}

std::string data_api_body(const DataApiQuery& query) {
  check_query(query);
  std::string filter = filter_text(query.filter);

  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  write_key(w, "metrics");
  w.StartArray();
  // Key metrics without aggregations segment the answer; the one metric with aggregations is the value.
  for (const auto& key : query.segment_by) {
    w.StartObject();
    write_key(w, "id");
    write_string(w, key);
    w.EndObject();
  }
  w.StartObject();
  write_key(w, "id");
  write_string(w, query.metric_id);
  write_key(w, "aggregations");
  w.StartObject();
  write_key(w, "time");
  write_string(w, query.time_aggregation);
  write_key(w, "group");
  write_string(w, query.group_aggregation);
  w.EndObject();
  w.EndObject();
  w.EndArray();
  write_key(w, "dataSourceType");
  write_string(w, query.data_source_type);
  if (!filter.empty()) {
    write_key(w, "filter");
    write_string(w, filter);
  }
  write_key(w, "last");
  w.Int64(query.last_seconds);
  write_key(w, "sampling");
  w.Int64(query.sampling_seconds);
  if (query.paging_to) {
    write_key(w, "paging");
    w.StartObject();
    write_key(w, "from");
    w.Int(0);
    write_key(w, "to");
    w.Int64(*query.paging_to);
    w.EndObject();
  }
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

std::vector<FilterClause> clauses_from_selector(const api::LabelSelector& selector) {
  using Operator = api::LabelRequirement::Operator;
  std::vector<FilterClause> clauses;
  for (const auto& requirement : selector.requirements()) {
    check_label_id(requirement.key);
    auto add = [&](FilterClause::Op op) { clauses.push_back({requirement.key, op, requirement.values}); };
    switch (requirement.op) {
      case Operator::Equals:
      case Operator::DoubleEquals: add(FilterClause::Op::Equal); break;
      case Operator::NotEquals: add(FilterClause::Op::NotEqual); break;
      case Operator::In: add(FilterClause::Op::In); break;
      case Operator::NotIn: add(FilterClause::Op::NotIn); break;
      case Operator::Exists:
      case Operator::DoesNotExist:
        throw std::invalid_argument("the label selector requirement " +
                                    std::string(requirement.op == Operator::Exists ? "" : "!") + requirement.key +
                                    " (label exists or not) cannot be expressed in a Data API filter");
    }
  }
  return clauses;
}

}  // namespace sma::providers::sysdig_data
