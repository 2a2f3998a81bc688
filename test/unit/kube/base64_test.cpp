#include <catch2/catch.hpp>
#include <random>
#include <string>

#include "lib/kube/base64.h"

using sma::kube::decode_base64;
using sma::kube::encode_base64;

TEST_CASE("base64 encodes the RFC 4648 test vectors, padded, on one line", "[base64]") {
  CHECK(encode_base64("") == "");
  CHECK(encode_base64("f") == "Zg==");
  CHECK(encode_base64("fo") == "Zm8=");
  CHECK(encode_base64("foo") == "Zm9v");
  CHECK(encode_base64("foob") == "Zm9vYg==");
  CHECK(encode_base64("fooba") == "Zm9vYmE=");
  CHECK(encode_base64("foobar") == "Zm9vYmFy");
  CHECK(encode_base64(std::string("\xff\xef\0", 3)) == "/+8A");  // standard alphabet, NUL kept
  const std::string pem(200, 'x');
  CHECK(encode_base64(pem).find('\n') == std::string::npos);  // no line breaks, even past 64 characters
}

TEST_CASE("base64 decodes with or without padding and with line breaks", "[base64]") {
  CHECK(decode_base64("") == std::string());
  CHECK(decode_base64("\n") == std::string());
  CHECK(decode_base64("YQ==") == std::string("a"));
  CHECK(decode_base64("YQ") == std::string("a"));
  CHECK(decode_base64("YWI=") == std::string("ab"));
  CHECK(decode_base64("YWI") == std::string("ab"));
  CHECK(decode_base64("YWJj") == std::string("abc"));
  CHECK(decode_base64("YWJj\nZGVm\r\n") == std::string("abcdef"));
  CHECK(decode_base64(" YW Jj\tZA==\n") == std::string("abcd"));
  CHECK(decode_base64("/+8=") == std::string("\xff\xef"));
  CHECK(decode_base64("AAA=") == std::string("\0\0", 2));  // zero bytes that are data stay
}

TEST_CASE("base64 decoding gives exactly the encoded bytes, never the padding's zero bytes", "[base64]") {
  // OpenSSL's EVP_DecodeBlock counts each '=' as a decoded byte: the length must not include them.
  CHECK(decode_base64("Zg==")->size() == 1);
  CHECK(decode_base64("Zm8=")->size() == 2);
  CHECK(decode_base64("Zm9vYg==") == std::string("foob"));
}

TEST_CASE("base64 decoding refuses what is not standard base64", "[base64]") {
  CHECK_FALSE(decode_base64("Y"));        // one sextet carries no byte
  CHECK_FALSE(decode_base64("YWJjZ"));
  CHECK_FALSE(decode_base64("YQ=x"));     // data after padding
  CHECK_FALSE(decode_base64("Y=Q="));
  CHECK_FALSE(decode_base64("YQ="));      // padding that does not complete the group
  CHECK_FALSE(decode_base64("YQ==="));
  CHECK_FALSE(decode_base64("===="));
  CHECK_FALSE(decode_base64("=="));
  CHECK_FALSE(decode_base64("Y*=="));
  CHECK_FALSE(decode_base64("-_8="));     // the URL-safe alphabet is not what kubeconfigs use
  CHECK_FALSE(decode_base64("YWJj-"));    // OpenSSL alone would trim a trailing '-'
  CHECK_FALSE(decode_base64(std::string_view("YWJj\0", 5)));
  CHECK_FALSE(decode_base64("YWJj\xc3\xa9"));
}

TEST_CASE("base64 round-trips every byte value at every tail length", "[base64]") {
  std::mt19937 random(20240601);
  for (std::size_t length = 0; length < 70; ++length) {
    std::string bytes(length, '\0');
    for (auto& b : bytes) b = static_cast<char>(random() & 0xff);
    INFO("length " << length);
    const std::string encoded = encode_base64(bytes);
    CHECK(encoded.size() == (length + 2) / 3 * 4);
    CHECK(decode_base64(encoded) == bytes);
  }
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  CHECK(decode_base64(encode_base64(all)) == all);
}

TEST_CASE("base64 encodes long input in slices that join seamlessly", "[base64]") {
  // Longer than one EVP_EncodeBlock slice (3 MiB), and not a multiple of 3.
  std::string big(3 * 1024 * 1024 + 4, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7);
  const std::string encoded = encode_base64(big);
  CHECK(encoded.size() == (big.size() + 2) / 3 * 4);
  CHECK(decode_base64(encoded) == big);
}
