#include "providers/promql/promql_builder.h"

#include <stdexcept>
#include <string_view>

namespace sma::providers::promql {
namespace {

bool is_ascii_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_ascii_digit(char c) { return c >= '0' && c <= '9'; }

// [a-zA-Z_][a-zA-Z0-9_]*, plus ':' anywhere when `allow_colon` (metric names).
bool is_prometheus_name(std::string_view name, bool allow_colon) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = is_ascii_letter(c) || c == '_' || (allow_colon && c == ':') || (i > 0 && is_ascii_digit(c));
    if (!ok) return false;
  }
  return true;
}

bool is_label_name(std::string_view name) { return is_prometheus_name(name, false); }
bool is_metric_name(std::string_view name) { return is_prometheus_name(name, true); }

// Length of the well-formed UTF-8 sequence starting at text[i] (RFC 3629: no overlongs, no
// surrogates, nothing above U+10FFFF), or 0 when the bytes there are not one.
std::size_t utf8_sequence_length(std::string_view text, std::size_t i) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  auto continuation = [&](std::size_t k) { return k < text.size() && (byte(k) & 0xC0) == 0x80; };
  unsigned char lead = byte(i);
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return continuation(i + 1) ? 2 : 0;
  if (lead >= 0xE0 && lead <= 0xEF) {
    if (!continuation(i + 1) || !continuation(i + 2)) return 0;
    if (lead == 0xE0 && byte(i + 1) < 0xA0) return 0;   // overlong
    if (lead == 0xED && byte(i + 1) >= 0xA0) return 0;  // UTF-16 surrogate
    return 3;
  }
  if (lead >= 0xF0 && lead <= 0xF4) {
    if (!continuation(i + 1) || !continuation(i + 2) || !continuation(i + 3)) return 0;
    if (lead == 0xF0 && byte(i + 1) < 0x90) return 0;   // overlong
    if (lead == 0xF4 && byte(i + 1) >= 0x90) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

void append_hex_escape(std::string& out, unsigned char byte) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += "\\x";
  out += kHex[byte >> 4];
  out += kHex[byte & 0x0F];
}

std::string_view op_text(Matcher::Op op) {
  switch (op) {
    case Matcher::Op::Equal: return "=";
    case Matcher::Op::NotEqual: return "!=";
    case Matcher::Op::RegexMatch: return "=~";
    case Matcher::Op::RegexNoMatch: return "!~";
  }
  throw std::invalid_argument("unknown PromQL matcher operator");
}

}  // namespace

// Only escapes that both Prometheus (Go's strconv rules) and the test double decode the same way:
// \\ \" \n \r \t and \xHH for the other ASCII control bytes. Valid UTF-8 above ASCII passes as is;
// invalid UTF-8 is refused, because Prometheus label values are UTF-8 text and a \xHH escape of a
// byte >= 0x80 means a raw byte in Go but a code point elsewhere.
std::string quote(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out += '"';
  for (std::size_t i = 0; i < text.size();) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      std::size_t length = utf8_sequence_length(text, i);
      if (length == 0) {
        throw std::invalid_argument("a PromQL string must be valid UTF-8; the byte at offset " + std::to_string(i) +
                                    " is not");
      }
      out.append(text.substr(i, length));
      i += length;
      continue;
    }
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7F) {
          append_hex_escape(out, c);
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  out += '"';
  return out;
}

// The metacharacters of RE2 syntax (Prometheus) and of Python's re (the test double) are the same
// set; a backslash before any of them makes it literal in both.
std::string regex_literal(std::string_view text) {
  static constexpr std::string_view kMeta = "\\.+*?()|[]{}^$";
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (kMeta.find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

std::string regex_alternation(const std::vector<std::string>& values) {
  // An empty alternation would be the regex "", which matches series *without* the label: the
  // opposite of "none of these values". Refuse it rather than widen a query.
  if (values.empty()) throw std::invalid_argument("a regex alternation needs at least one value");
  std::string out;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += '|';
    out += regex_literal(values[i]);
  }
  return out;
}

std::string selector(std::string_view metric, const std::vector<Matcher>& matchers) {
  if (!is_metric_name(metric)) {
    throw std::invalid_argument("'" + std::string(metric) +
                                "' is not a valid PromQL metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)");
  }
  std::string out(metric);
  if (matchers.empty()) return out;
  out += '{';
  for (std::size_t i = 0; i < matchers.size(); ++i) {
    const Matcher& m = matchers[i];
    if (!is_label_name(m.label)) {
      throw std::invalid_argument("'" + m.label + "' is not a valid Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*)");
    }
    if (i > 0) out += ',';
    out += m.label;
    out += op_text(m.op);
    out += quote(m.value);
  }
  out += '}';
  return out;
}

std::vector<Matcher> matchers_from_selector(const api::LabelSelector& selector) {
  using Operator = api::LabelRequirement::Operator;
  std::vector<Matcher> matchers;
  for (const auto& requirement : selector.requirements()) {
    const std::string& key = requirement.key;
    if (!is_label_name(key)) {
      throw std::invalid_argument("the label selector key '" + key +
                                  "' cannot be used as a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*)");
    }
    // Names starting with "__" are Prometheus' own (__name__): a selector must not reach them.
    if (key.starts_with("__")) {
      throw std::invalid_argument("the label selector key '" + key + "' is reserved in Prometheus");
    }
    auto single_value = [&]() -> const std::string& {
      if (requirement.values.size() != 1) {
        throw std::invalid_argument("the label selector requirement on '" + key + "' needs exactly one value");
      }
      return requirement.values.front();
    };
    switch (requirement.op) {
      case Operator::Equals:
      case Operator::DoubleEquals: matchers.push_back({key, Matcher::Op::Equal, single_value()}); break;
      case Operator::NotEquals: matchers.push_back({key, Matcher::Op::NotEqual, single_value()}); break;
      // A missing label reads as "" in PromQL, so "exists" is "not empty" and "!exists" is "empty".
      case Operator::Exists: matchers.push_back({key, Matcher::Op::NotEqual, ""}); break;
      case Operator::DoesNotExist: matchers.push_back({key, Matcher::Op::Equal, ""}); break;
      case Operator::In:
        matchers.push_back({key, Matcher::Op::RegexMatch, regex_alternation(requirement.values)});
        break;
      case Operator::NotIn:
        matchers.push_back({key, Matcher::Op::RegexNoMatch, regex_alternation(requirement.values)});
        break;
    }
  }
  return matchers;
}

std::string duration(long long seconds) {
  if (seconds < 1) {
    throw std::invalid_argument("a PromQL duration must be at least 1s, not " + std::to_string(seconds) + "s");
  }
  // Largest unit first, zero parts left out, as Prometheus itself prints durations.
  long long hours = seconds / 3600;
  long long minutes = seconds % 3600 / 60;
  long long rest = seconds % 60;
  std::string out;
  if (hours > 0) out += std::to_string(hours) + "h";
  if (minutes > 0) out += std::to_string(minutes) + "m";
  if (rest > 0) out += std::to_string(rest) + "s";
  return out;
}

}  // namespace sma::providers::promql
