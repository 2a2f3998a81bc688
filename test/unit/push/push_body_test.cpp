#include <catch2/catch.hpp>

#include <string>

#include "providers/provider.h"
#include "providers/push/push_body.h"

using sma::providers::MetricsError;
using sma::providers::push::parse_push_body;

TEST_CASE("the three body forms") {
  CHECK(parse_push_body("\"500m\"").value.to_string() == "500m");
  CHECK(parse_push_body("42").value.to_string() == "42");
  CHECK(parse_push_body("0.58").value.to_string() == "580m");
  CHECK(parse_push_body("1e3").value.to_string() == "1k");
  CHECK(parse_push_body("1E3").value.to_string() == "1k");
  CHECK(parse_push_body(" -2.5 ").value.to_string() == "-2500m");
  auto full = parse_push_body(R"({"value":"42","labels":{"app":"kuard"},"metricLabels":{"verb":"GET"}})");
  CHECK(full.value.to_string() == "42");
  CHECK(full.labels.at("app") == "kuard");
  CHECK(full.metric_labels.at("verb") == "GET");
  CHECK(parse_push_body(R"({"value":12000})").value.to_string() == "12k");
}

TEST_CASE("bad bodies are refused with a reason") {
  struct Case {
    const char* body;
    const char* fragment;
  };
  for (auto c : {Case{"", "not JSON"}, Case{"{", "not JSON"}, Case{"\"x\"", "not a Kubernetes quantity"},
                 Case{"[]", "expected a quantity"}, Case{"{}", "no \"value\""},
                 Case{R"({"value":true})", "quantity string"}, Case{R"({"value":"1","x":1})", "unknown field \"x\""},
                 Case{R"({"value":"1","labels":"a"})", "\"labels\" must be an object"},
                 Case{R"({"value":"1","labels":{"-bad":"x"}})", "-bad"},
                 Case{R"({"value":"1","metricLabels":{"k":"v v"}})", "v v"}, Case{"1e999", "too large to be a Kubernetes quantity"}}) {
    INFO(c.body);
    try {
      parse_push_body(c.body);
      FAIL("accepted");
    } catch (const MetricsError& e) {
      CHECK(e.kind() == MetricsError::Kind::BadRequest);
      CHECK_THAT(e.what(), Catch::Contains(c.fragment));
    }
  }
}

TEST_CASE("deeply nested bodies are refused, not a stack overflow") {
  // Found while writing test/fuzz/push_body_fuzzer: the recursive parser overflowed the stack on ~12k nested
  // brackets (AddressSanitizer build); a 1 MiB body, the server's limit, crashed any build.
  const std::string unclosed(1 << 20, '[');
  const std::string closed = std::string(100000, '[') + std::string(100000, ']');  // JSON, not a value body
  for (const std::string* body : {&unclosed, &closed}) {
    try {
      parse_push_body(*body);
      FAIL("accepted");
    } catch (const MetricsError& e) {
      CHECK(e.kind() == MetricsError::Kind::BadRequest);
    }
  }
}
