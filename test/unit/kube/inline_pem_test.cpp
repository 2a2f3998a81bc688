// Small pieces behind kubeconfig inline data: base64 decoding and private PEM files.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "lib/kube/base64_decoding.h"
#include "lib/kube/private_pem_file.h"
#include "test/unit/kube/scratch_directory.h"

using sma::kube::decode_base64;
using sma::kube::PrivatePemFile;

TEST_CASE("base64 decodes with or without padding and line breaks", "[base64]") {
  CHECK(decode_base64("") == std::string());
  CHECK(decode_base64("YQ==") == std::string("a"));
  CHECK(decode_base64("YQ") == std::string("a"));
  CHECK(decode_base64("YWI=") == std::string("ab"));
  CHECK(decode_base64("YWJj") == std::string("abc"));
  CHECK(decode_base64("YWJj\nZGVm\r\n") == std::string("abcdef"));
  CHECK(decode_base64("/+8=") == std::string("\xff\xef"));
  CHECK_FALSE(decode_base64("Y"));
  CHECK_FALSE(decode_base64("YQ=x"));
  CHECK_FALSE(decode_base64("Y*=="));
  CHECK_FALSE(decode_base64("YQ==="));
  CHECK_FALSE(decode_base64("-_8="));  // URL-safe alphabet is not what kubeconfigs use
}

TEST_CASE("a private PEM file is readable by its owner only and removed with its object",
          "[pem_file]") {
  std::string path;
  {
    PrivatePemFile file("-----BEGIN PRIVATE KEY-----\n", "client-key");
    path = file.path();
    CHECK(sma::kube::testing::read_file(path) == "-----BEGIN PRIVATE KEY-----\n");
    struct stat info {};
    REQUIRE(::stat(path.c_str(), &info) == 0);
    CHECK((info.st_mode & 0777) == 0600);
    CHECK_THAT(path, Catch::Contains("sma-kube-client-key-"));
    PrivatePemFile moved(std::move(file));
    CHECK(moved.path() == path);
  }
  CHECK_FALSE(std::filesystem::exists(path));
}
