#include <catch2/catch.hpp>

#include "lib/http/http_fetcher.h"

using sma::http::form_encode;

TEST_CASE("form encoding keeps unreserved bytes, turns spaces into + and escapes the rest",
          "[form]") {
  CHECK(form_encode("") == "");
  CHECK(form_encode("AZaz09-_.~") == "AZaz09-_.~");
  CHECK(form_encode("a b") == "a+b");
  CHECK(form_encode("app=kuard,tier in (web,api)") == "app%3Dkuard%2Ctier+in+%28web%2Capi%29");
  CHECK(form_encode("sum(x{a=\"b\"})") == "sum%28x%7Ba%3D%22b%22%7D%29");
  CHECK(form_encode("+&%/?#") == "%2B%26%25%2F%3F%23");
  CHECK(form_encode("\xc3\xa9") == "%C3%A9");
  CHECK(form_encode(std::string_view("\0\n", 2)) == "%00%0A");
}
