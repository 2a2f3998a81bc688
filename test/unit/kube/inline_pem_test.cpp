// Kubeconfig inline keys go to private PEM files (base64 decoding: base64_test.cpp).
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "lib/kube/private_pem_file.h"
#include "test/unit/kube/scratch_directory.h"

using sma::kube::PrivatePemFile;

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
