// Validation of the names that arrive in URLs and selectors, following Kubernetes'
// k8s.io/apimachinery/pkg/util/validation rules, with messages that say what is allowed.
#include "lib/api/names.h"

#include <cstdio>
#include <vector>

#include "lib/api/message_text.h"

namespace sma::api {

namespace {

constexpr std::size_t kDns1123LabelMaxLength = 63;
constexpr std::size_t kDns1123SubdomainMaxLength = 253;
constexpr std::size_t kQualifiedNameMaxLength = 63;
constexpr std::size_t kLabelValueMaxLength = 63;
constexpr std::size_t kMetricNameMaxLength = 255;
constexpr std::size_t kQuotedMaxLength = 80;  // longer names are cut in messages

constexpr std::string_view kDns1123LabelRule =
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start and end with an alphanumeric character (e.g. 'my-name', or '123-abc')";
constexpr std::string_view kDns1123SubdomainRule =
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com')";
constexpr std::string_view kQualifiedNameRule =
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character (e.g. 'MyName', or 'my.name', or '123-abc')";
constexpr std::string_view kLabelValueRule =
    "a valid label value must be an empty string or consist of alphanumeric characters, '-', '_' "
    "or '.', and must start and end with an alphanumeric character (e.g. 'MyValue', or "
    "'my_value', or '12345')";
constexpr std::string_view kMetricNameRule =
    "a metric name must start with a letter, '_', ':' or '.', and consist only of letters, "
    "digits, '_', ':' and '.' (e.g. 'net.http.request.count' or 'http_requests_total')";

bool is_lower_alphanumeric(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool is_alphanumeric(char c) {
  return is_lower_alphanumeric(c) || (c >= 'A' && c <= 'Z');
}
bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// The name as it appears in a message: it comes from a URL, so escaped, and cut when very long.
std::string quoted(std::string_view name) { return quoted_for_message(name, kQuotedMaxLength); }

std::string too_long(std::size_t max_length, std::size_t actual) {
  return "must be no more than " + std::to_string(max_length) + " characters (it has " +
         std::to_string(actual) + ")";
}

std::string invalid(std::string_view what, std::string_view name, std::string_view reason) {
  return std::string(what) + " " + quoted(name) + " is invalid: " + std::string(reason);
}

// "prefix part must not be empty", but "prefix part: a lowercase RFC 1123 subdomain must ...".
std::string about_part(std::string_view part, std::string_view reason) {
  const bool is_predicate = reason.substr(0, 5) == "must ";
  return std::string(part) + (is_predicate ? " " : ": ") + std::string(reason);
}

std::string join(const std::vector<std::string>& reasons) {
  std::string out;
  for (const auto& reason : reasons) {
    if (!out.empty()) out += "; ";
    out += reason;
  }
  return out;
}

// [a-z0-9]([-a-z0-9]*[a-z0-9])?, length not checked.
bool matches_dns1123_label(std::string_view text) {
  if (text.empty() || !is_lower_alphanumeric(text.front()) || !is_lower_alphanumeric(text.back())) {
    return false;
  }
  for (char c : text) {
    if (!is_lower_alphanumeric(c) && c != '-') return false;
  }
  return true;
}

// Labels joined by '.', length not checked. Like Kubernetes, the 63-character limit of each
// label is not enforced here: object names such as "a.<64 chars>.b" are valid in Kubernetes.
bool matches_dns1123_subdomain(std::string_view text) {
  while (true) {
    const auto dot = text.find('.');
    if (!matches_dns1123_label(text.substr(0, dot))) return false;
    if (dot == std::string_view::npos) return true;
    text.remove_prefix(dot + 1);
  }
}

// ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9], length not checked.
bool matches_qualified_name_part(std::string_view text) {
  if (text.empty() || !is_alphanumeric(text.front()) || !is_alphanumeric(text.back())) return false;
  for (char c : text) {
    if (!is_alphanumeric(c) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

std::vector<std::string> dns1123_subdomain_problems(std::string_view name) {
  std::vector<std::string> problems;
  if (name.empty()) return {"must not be empty"};
  if (name.size() > kDns1123SubdomainMaxLength) {
    problems.push_back(too_long(kDns1123SubdomainMaxLength, name.size()));
  }
  if (!matches_dns1123_subdomain(name)) problems.emplace_back(kDns1123SubdomainRule);
  return problems;
}

std::optional<std::string> check_dns1123_label(std::string_view what, std::string_view name) {
  std::vector<std::string> problems;
  if (name.empty()) return invalid(what, name, "must not be empty");
  if (name.size() > kDns1123LabelMaxLength) {
    problems.push_back(too_long(kDns1123LabelMaxLength, name.size()));
  }
  if (!matches_dns1123_label(name)) problems.emplace_back(kDns1123LabelRule);
  if (problems.empty()) return std::nullopt;
  return invalid(what, name, join(problems));
}

std::optional<std::string> check_dns1123_subdomain(std::string_view what, std::string_view name) {
  const auto problems = dns1123_subdomain_problems(name);
  if (problems.empty()) return std::nullopt;
  return invalid(what, name, join(problems));
}

}  // namespace

std::optional<std::string> check_namespace_name(std::string_view name) {
  return check_dns1123_label("namespace", name);
}

std::optional<std::string> check_object_name(std::string_view name) {
  return check_dns1123_subdomain("object name", name);
}

std::optional<std::string> check_resource_name(std::string_view name) {
  return check_dns1123_subdomain("resource", name);
}

std::optional<std::string> check_metric_name(std::string_view name) {
  std::vector<std::string> problems;
  if (name.empty()) return invalid("metric name", name, "must not be empty");
  if (name.size() > kMetricNameMaxLength) {
    problems.push_back(too_long(kMetricNameMaxLength, name.size()));
  }
  const auto allowed_first = [](char c) { return is_letter(c) || c == '_' || c == ':' || c == '.'; };
  bool well_formed = allowed_first(name.front());
  for (char c : name) well_formed = well_formed && (allowed_first(c) || is_digit(c));
  if (!well_formed) problems.emplace_back(kMetricNameRule);
  if (problems.empty()) return std::nullopt;
  return invalid("metric name", name, join(problems));
}

std::optional<std::string> check_label_key(std::string_view key) {
  std::vector<std::string> problems;
  std::string_view name = key;
  const auto slash = key.find('/');
  if (slash != std::string_view::npos) {
    if (key.find('/', slash + 1) != std::string_view::npos) {
      return invalid("label key", key,
                     "a qualified name " + std::string(kQualifiedNameRule) +
                         ", with an optional DNS subdomain prefix and one '/' (e.g. "
                         "'example.com/MyName')");
    }
    const std::string_view prefix = key.substr(0, slash);
    for (const auto& problem : dns1123_subdomain_problems(prefix)) {
      problems.push_back(about_part("prefix part", problem));
    }
    name = key.substr(slash + 1);
  }
  if (name.empty()) {
    problems.emplace_back("name part must not be empty");
  } else {
    if (name.size() > kQualifiedNameMaxLength) {
      problems.push_back(about_part("name part", too_long(kQualifiedNameMaxLength, name.size())));
    }
    if (!matches_qualified_name_part(name)) {
      problems.push_back(about_part("name part", kQualifiedNameRule));
    }
  }
  if (problems.empty()) return std::nullopt;
  return invalid("label key", key, join(problems));
}

std::optional<std::string> check_label_value(std::string_view value) {
  if (value.empty()) return std::nullopt;
  std::vector<std::string> problems;
  if (value.size() > kLabelValueMaxLength) {
    problems.push_back(too_long(kLabelValueMaxLength, value.size()));
  }
  if (!matches_qualified_name_part(value)) problems.emplace_back(kLabelValueRule);
  if (problems.empty()) return std::nullopt;
  return invalid("label value", value, join(problems));
}

}  // namespace sma::api
