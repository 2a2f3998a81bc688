#include "lib/http/proxy_selection.h"

#include <catch2/catch.hpp>

#include "lib/http/http_fetcher.h"
#include "test/unit/http/scoped_environment.h"

using sma::http::FetcherOptions;
using sma::http::FetchError;
using sma::http::no_proxy_matches;
using sma::http::parse_proxy_url;
using sma::http::parse_request_target;
using sma::http::ProxySelection;
using sma::http::testing::ScopedEnvironment;

TEST_CASE("NO_PROXY entries match hosts, suffixes, addresses and blocks", "[proxy]") {
  CHECK(no_proxy_matches("*", "anything.example"));
  CHECK(no_proxy_matches("example.com", "example.com"));
  CHECK(no_proxy_matches("example.com", "api.example.com"));
  CHECK_FALSE(no_proxy_matches("example.com", "badexample.com"));
  CHECK(no_proxy_matches(".example.com", "api.example.com"));
  CHECK_FALSE(no_proxy_matches(".example.com", "example.com"));
  CHECK(no_proxy_matches("*.example.com", "a.b.example.com"));
  CHECK(no_proxy_matches(" foo , EXAMPLE.com ", "Api.Example.COM"));
  CHECK(no_proxy_matches("example.com:8080", "example.com:443"));  // ports are ignored
  CHECK(no_proxy_matches("10.0.0.0/8", "10.96.0.1"));
  CHECK_FALSE(no_proxy_matches("10.0.0.0/8", "11.0.0.1"));
  CHECK(no_proxy_matches("fd00::/8", "[fd00::1]"));
  CHECK(no_proxy_matches("::1", "[::1]"));
  CHECK(no_proxy_matches("[::1]:6443", "[::1]"));
  CHECK(no_proxy_matches("127.0.0.1", "127.0.0.1"));
  CHECK_FALSE(no_proxy_matches("10.0.0.1", "10.0.0.10"));
  CHECK_FALSE(no_proxy_matches("", "127.0.0.1"));  // loopback is not special
  CHECK_FALSE(no_proxy_matches(",,", "example.com"));
}

TEST_CASE("proxy URLs become http endpoints with their credentials split off", "[proxy]") {
  const auto plain = parse_proxy_url("proxy.corp:3128");
  CHECK(plain.address == "http://proxy.corp:3128");
  CHECK(plain.username.empty());
  const auto with_user = parse_proxy_url("http://alice:p%40ss@proxy.corp:3128/");
  CHECK(with_user.address == "http://proxy.corp:3128");
  CHECK(with_user.username == "alice");
  CHECK(with_user.password == "p@ss");
  CHECK(parse_proxy_url("http://proxy.corp").address == "http://proxy.corp:80");
  CHECK(parse_proxy_url("http://[fd00::5]:8080").address == "http://[fd00::5]:8080");
  CHECK_THROWS_AS(parse_proxy_url("socks5://proxy:1080"), FetchError);
  CHECK_THROWS_AS(parse_proxy_url("https://proxy:443"), FetchError);
}

TEST_CASE("the environment picks the proxy by scheme, upper case first", "[proxy]") {
  ScopedEnvironment environment;
  environment.clear_proxies();
  environment.set("HTTPS_PROXY", "http://upper:1");
  environment.set("https_proxy", "http://lower:2");
  environment.set("http_proxy", "http://plain:3");
  environment.set("no_proxy", ".svc,10.0.0.0/8");
  const auto selection = ProxySelection::from_options(FetcherOptions{});

  CHECK(selection.proxy_for(parse_request_target("https://api.example.com/"))->address ==
        "http://upper:1");
  CHECK(selection.proxy_for(parse_request_target("http://api.example.com/"))->address ==
        "http://plain:3");
  CHECK_FALSE(selection.proxy_for(parse_request_target("https://kubernetes.default.svc/")));
  CHECK_FALSE(selection.proxy_for(parse_request_target("https://10.96.0.1:443/")));
}

TEST_CASE("no proxy at all means direct connections", "[proxy]") {
  ScopedEnvironment environment;
  environment.clear_proxies();
  const auto selection = ProxySelection::from_environment();
  CHECK_FALSE(selection.proxy_for(parse_request_target("https://api.example.com/")));
}
