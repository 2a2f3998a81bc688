#include "lib/http/request_target.h"

#include <catch2/catch.hpp>

#include "lib/http/http_fetcher.h"

using sma::http::FetchError;
using sma::http::parse_request_target;

TEST_CASE("a URL splits into origin, path and request line", "[request_target]") {
  const auto target =
      parse_request_target("HTTPS://api.example.com:6443/api/v1/pods?limit=500#frag");
  CHECK(target.scheme == "https");
  CHECK(target.host == "api.example.com");
  CHECK(target.port == 6443);
  CHECK(target.path == "/api/v1/pods");
  CHECK(target.path_and_query == "/api/v1/pods?limit=500");
  CHECK(target.origin() == "https://api.example.com:6443");
  CHECK(target.described() == "https://api.example.com:6443/api/v1/pods");
  CHECK(target.authority_url() == "https://api.example.com:6443");
}

TEST_CASE("default ports, empty paths and IPv6 literals", "[request_target]") {
  const auto implicit = parse_request_target("https://example.com");
  CHECK(implicit.origin() == "https://example.com:443");
  CHECK(implicit.authority_url() == "https://example.com");  // no port in the Host header either
  CHECK(parse_request_target("http://example.com?x=1").path_and_query == "/?x=1");
  const auto v6 = parse_request_target("https://[fd00::1]:443/api");
  CHECK(v6.host == "[fd00::1]");
  CHECK(v6.port == 443);
  CHECK(parse_request_target("http://[::1]/").port == 80);
}

TEST_CASE("malformed URLs are Protocol errors that do not echo secrets", "[request_target]") {
  for (const char* url :
       {"example.com/path", "file:///etc/passwd", "http://", "http://:80/", "http://[::1/",
        "http://host:0/", "http://host:abc/", "http://a:b@host/", "http://host/\r\nX: y"}) {
    INFO(url);
    try {
      parse_request_target(url);
      FAIL("accepted");
    } catch (const FetchError& error) {
      CHECK(error.kind() == FetchError::Kind::Protocol);
      CHECK(std::string(error.what()).find("a:b") == std::string::npos);
    }
  }
}
