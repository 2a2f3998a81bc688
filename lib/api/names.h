// Validation of names that arrive in URLs, before they reach any backend query.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sma::api {

// Each returns nullopt when valid, else a reason a person can act on, e.g.
// "namespace \"Foo\" is invalid: a lowercase RFC 1123 label must consist of ...".

// Namespace names: RFC 1123 label (<= 63 chars, [a-z0-9]([-a-z0-9]*[a-z0-9])?).
std::optional<std::string> check_namespace_name(std::string_view name);
// Object names: RFC 1123 subdomain (<= 253 chars, dot-separated labels of [a-z0-9-]).
std::optional<std::string> check_object_name(std::string_view name);
// Resource names as they appear in paths ("pods", "deployments.apps"): lowercase RFC 1123 subdomain.
std::optional<std::string> check_resource_name(std::string_view name);
// Metric names: [a-zA-Z_:.][a-zA-Z0-9_:.]*, at most 255 characters.
std::optional<std::string> check_metric_name(std::string_view name);
// Label keys: qualified names ([DNS subdomain prefix/]name, name <= 63 chars of [A-Za-z0-9-_.],
// beginning and ending alphanumeric).
std::optional<std::string> check_label_key(std::string_view key);
// Label values: empty, or <= 63 chars of [A-Za-z0-9-_.] beginning and ending alphanumeric.
std::optional<std::string> check_label_value(std::string_view value);

}  // namespace sma::api
