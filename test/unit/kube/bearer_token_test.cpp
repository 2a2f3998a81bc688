#include "lib/kube/bearer_token.h"

#include <catch2/catch.hpp>
#include <filesystem>

#include "lib/kube/kube_client.h"
#include "test/unit/kube/scratch_directory.h"

using sma::kube::BearerToken;
using sma::kube::KubeError;
using sma::kube::testing::ScratchDirectory;

TEST_CASE("fixed and absent tokens", "[token]") {
  CHECK(BearerToken().current().empty());
  CHECK(BearerToken::fixed(" abc\n").current() == "abc");
}

TEST_CASE("a token file is re-read when it is replaced or rewritten", "[token]") {
  ScratchDirectory scratch;
  const std::string path = scratch.write("token", "first\n");
  BearerToken token = BearerToken::from_file(path);
  CHECK(token.current() == "first");

  std::filesystem::rename(scratch.write("next", "second"), path);  // the kubelet's swap
  CHECK(token.current() == "second");

  scratch.write("token", "third-longer");  // rewritten in place
  CHECK(token.current() == "third-longer");
}

TEST_CASE("a vanished token file keeps the last token, one never read is an error", "[token]") {
  ScratchDirectory scratch;
  const std::string path = scratch.write("token", "kept");
  BearerToken token = BearerToken::from_file(path);
  CHECK(token.current() == "kept");
  std::filesystem::remove(path);
  CHECK(token.current() == "kept");

  BearerToken never = BearerToken::from_file(scratch.path() + "/absent");
  try {
    never.current();
    FAIL("no error");
  } catch (const KubeError& error) {
    CHECK(error.kind() == KubeError::Kind::Unavailable);
    CHECK_THAT(error.what(), Catch::Contains("absent"));
  }
}
