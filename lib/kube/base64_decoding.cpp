#include "lib/kube/base64_decoding.h"

#include <cstdint>

namespace sma::kube {
namespace {

int sextet(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

}  // namespace

std::optional<std::string> decode_base64(std::string_view text) {
  std::string out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t bits = 0;
  int pending = 0;  // sextets collected in `bits`
  int padding = 0;
  for (const char c : text) {
    if (is_blank(c)) continue;
    if (c == '=') {
      ++padding;
      continue;
    }
    const int value = sextet(c);
    if (value < 0 || padding > 0) return std::nullopt;  // foreign byte, or data after '='
    bits = (bits << 6) | static_cast<std::uint32_t>(value);
    if (++pending == 4) {
      out.push_back(static_cast<char>((bits >> 16) & 0xff));
      out.push_back(static_cast<char>((bits >> 8) & 0xff));
      out.push_back(static_cast<char>(bits & 0xff));
      bits = 0;
      pending = 0;
    }
  }
  // A final group of 2 or 3 sextets carries 1 or 2 bytes; 1 sextet carries none and is invalid.
  if (pending == 1 || padding > 2 || (padding > 0 && pending + padding != 4)) return std::nullopt;
  if (pending == 2) out.push_back(static_cast<char>((bits >> 4) & 0xff));
  if (pending == 3) {
    out.push_back(static_cast<char>((bits >> 10) & 0xff));
    out.push_back(static_cast<char>((bits >> 2) & 0xff));
  }
  return out;
}

}  // namespace sma::kube
