// Untrusted text (from a URL or a backend answer) made safe and short for error messages and logs.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace sma::api {

// "\"text\"": quotes and backslashes escaped, control and non-ASCII bytes as \xHH, cut after
// max_bytes of input (marked "...").
std::string quoted_for_message(std::string_view text, std::size_t max_bytes = 80);

// Printable ASCII as is, every other byte (and backslash) as \xHH, at most max_bytes of output
// (plus "...").
std::string escaped_excerpt(std::string_view text, std::size_t max_bytes);

// At most max_bytes of UTF-8 text, cut on a character boundary and marked "...".
std::string utf8_prefix(std::string_view text, std::size_t max_bytes);

}  // namespace sma::api
