#include <catch2/catch.hpp>

#include <unistd.h>

#include <fstream>
#include <thread>

#include "lib/config/secret_token.h"

using sma::config::SecretToken;

TEST_CASE("a token file is re-read when it changes, and never shown") {
  char path[] = "/tmp/sma-token-XXXXXX";
  int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  close(fd);
  std::ofstream(path) << "first-token\n";
  auto token = SecretToken::from_file(path);
  CHECK(token.value() == "first-token");
  CHECK(token.masked().find("first-token") == std::string::npos);
  std::ofstream(path) << "second-token-which-is-longer\n";
  CHECK(token.value() == "second-token-which-is-longer");
  std::ofstream(path) << "";
  CHECK_THROWS_WITH(token.value(), Catch::Contains("is empty"));
  unlink(path);
  CHECK_THROWS_WITH(token.value(), Catch::Contains(path));
}

TEST_CASE("a literal token") {
  auto token = SecretToken::literal("abc\n");
  CHECK(token.configured());
  CHECK(token.value() == "abc");
  CHECK(token.masked() == "****");
  CHECK_FALSE(SecretToken{}.configured());
}
