// Percent-decoding of path segments and query strings (RFC 3986; '+' is a space in queries,
// as Go's url.ParseQuery reads it).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace sma::routing {

// nullopt for a malformed escape ("%G1", "%4") or an encoded NUL.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space);

// First value wins for a repeated key. nullopt when any part is malformed.
std::optional<std::map<std::string, std::string>> parse_query(std::string_view query);

}  // namespace sma::routing
