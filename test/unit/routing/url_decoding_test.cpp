#include <catch2/catch.hpp>

#include "lib/routing/url_decoding.h"

using sma::routing::parse_query;
using sma::routing::percent_decode;

TEST_CASE("percent decoding") {
  CHECK(percent_decode("a%2Ab", false) == "a*b");
  CHECK(percent_decode("a+b", false) == "a+b");
  CHECK(percent_decode("a+b", true) == "a b");
  CHECK(percent_decode("%e2%82%ac", false) == "\xE2\x82\xAC");
  CHECK_FALSE(percent_decode("%", false));
  CHECK_FALSE(percent_decode("%4", false));
  CHECK_FALSE(percent_decode("%G1", false));
  CHECK_FALSE(percent_decode("a%00b", false));
}

TEST_CASE("query strings keep the first value of a key") {
  auto q = parse_query("labelSelector=app%3Dkuard&timeout=32s&labelSelector=x&flag&&");
  REQUIRE(q);
  CHECK(q->at("labelSelector") == "app=kuard");
  CHECK(q->at("timeout") == "32s");
  CHECK(q->at("flag").empty());
  CHECK_FALSE(parse_query("a=%zz"));
}
