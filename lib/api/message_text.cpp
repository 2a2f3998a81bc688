#include "lib/api/message_text.h"

namespace sma::api {
namespace {

void append_hex_escape(std::string& out, unsigned char c) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += "\\x";
  out += kHex[c >> 4];
  out += kHex[c & 0x0F];
}

}  // namespace

std::string quoted_for_message(std::string_view text, std::size_t max_bytes) {
  std::string out = "\"";
  const std::string_view shown = text.substr(0, max_bytes);
  for (char c : shown) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20 || byte >= 0x7f) {
      append_hex_escape(out, byte);
    } else {
      out += c;
    }
  }
  if (shown.size() < text.size()) out += "...";
  out += '"';
  return out;
}

std::string escaped_excerpt(std::string_view text, std::size_t max_bytes) {
  std::string out;
  std::size_t i = 0;
  for (; i < text.size() && out.size() + 4 <= max_bytes; ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7F && c != '\\') {
      out += static_cast<char>(c);
    } else {
      append_hex_escape(out, c);
    }
  }
  if (i < text.size()) out += "...";
  return out;
}

std::string utf8_prefix(std::string_view text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  std::size_t end = max_bytes > 3 ? max_bytes - 3 : 0;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return std::string(text.substr(0, end)) + "...";
}

}  // namespace sma::api
