#include "lib/kube/base64.h"

#include <openssl/evp.h>

#include <algorithm>
#include <climits>
#include <cstddef>

namespace sma::kube {
namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

bool in_alphabet(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

const unsigned char* bytes_of(std::string_view text) { return reinterpret_cast<const unsigned char*>(text.data()); }

}  // namespace

std::optional<std::string> decode_base64(std::string_view text) {
  // EVP_DecodeBlock reads '=' as a zero sextet wherever it stands, trims trailing '-' and blanks,
  // and wants whole groups of 4: so the text is checked and compacted here, and OpenSSL only does
  // the arithmetic.
  std::string compact;
  compact.reserve(text.size() + 2);
  std::size_t padding = 0;
  for (const char c : text) {
    if (is_blank(c)) continue;
    if (c == '=') {
      ++padding;
    } else if (!in_alphabet(c) || padding > 0) {
      return std::nullopt;  // a foreign byte, or data after '='
    }
    compact.push_back(c);
  }
  if (padding > 2) return std::nullopt;
  if (padding == 0) {
    // Unpadded input: a last group of 2 or 3 sextets carries 1 or 2 bytes; 1 sextet carries none.
    if (compact.size() % 4 == 1) return std::nullopt;
    while (compact.size() % 4 != 0) {
      compact.push_back('=');
      ++padding;
    }
  } else if (compact.size() % 4 != 0) {
    return std::nullopt;  // padding that does not complete the last group
  }
  if (compact.empty()) return std::string();
  if (compact.size() > static_cast<std::size_t>(INT_MAX)) return std::nullopt;

  std::string out(compact.size() / 4 * 3, '\0');
  const int written = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes_of(compact),
                                      static_cast<int>(compact.size()));
  if (written < 0 || static_cast<std::size_t>(written) != out.size()) return std::nullopt;
  // EVP_DecodeBlock counts each '=' as a decoded zero byte: those are not part of the data.
  out.resize(out.size() - padding);
  return out;
}

std::string encode_base64(std::string_view bytes) {
  // EVP_EncodeBlock takes an int length: long input goes in slices of whole 3-byte groups, so
  // the slices' encodings simply concatenate.
  constexpr std::size_t kSlice = 3 * 1024 * 1024;
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  while (!bytes.empty()) {
    const std::string_view slice = bytes.substr(0, std::min(kSlice, bytes.size()));
    const std::size_t at = out.size();
    out.resize(at + (slice.size() + 2) / 3 * 4 + 1);  // EVP_EncodeBlock writes a NUL after the text
    const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data() + at), bytes_of(slice),
                                        static_cast<int>(slice.size()));
    out.resize(at + static_cast<std::size_t>(written));
    bytes.remove_prefix(slice.size());
  }
  return out;
}

}  // namespace sma::kube
