// What a command prints, read strictly.
#include <catch2/catch.hpp>

#include "providers/exec/command_output.h"

using namespace sma;
using namespace sma::providers::exec;

namespace {

std::string error_of(const std::function<void()>& parse) {
  try {
    parse();
  } catch (const OutputError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("an object value: one quantity, blanks around it allowed, nothing means no value") {
  CHECK(parse_object_output("42\n")->to_string() == "42");
  CHECK(parse_object_output("  1500m\r\n")->to_string() == "1500m");
  CHECK(parse_object_output("0.5")->to_string() == "500m");
  CHECK(parse_object_output("1e3")->to_string() == "1k");
  CHECK_FALSE(parse_object_output(""));
  CHECK_FALSE(parse_object_output(" \n"));
  for (const char* bad : {"NaN", "inf", "42 43", "42\nok", "{\"value\":1}", "forty", "1,5", "\x01"}) {
    INFO(bad);
    CHECK_THAT(error_of([&] { parse_object_output(bad); }), Catch::StartsWith("the output is not one Kubernetes quantity"));
  }
}

TEST_CASE("selector values: names and quantities, strings or numbers") {
  auto values = parse_selector_output(R"j({"items":[{"name":"kuard-1","value":"1500m"},{"name":"kuard-2","value":2.5}]})j");
  REQUIRE(values.size() == 2);
  CHECK(values[0].name == "kuard-1");
  CHECK(values[0].value.to_string() == "1500m");
  CHECK(values[1].value.to_string() == "2500m");
  CHECK(parse_selector_output(R"j({"items":[]})j").empty());
}

TEST_CASE("selector output errors") {
  struct Case {
    const char* out;
    const char* expected;
  };
  for (auto c : {
           Case{"", "the output is not JSON"},
           Case{"42", "the output is a number, not an object with \"items\""},
           Case{"{}", "the output has no \"items\""},
           Case{R"j({"items":{}})j", "\"items\" is an object, not an array"},
           Case{R"j({"items":[],"extra":1})j", "unknown key \"extra\" in the output"},
           Case{R"j({"items":[1]})j", "items[0] is a number, not an object"},
           Case{R"j({"items":[{"value":"1"}]})j", "items[0] has no \"name\" string"},
           Case{R"j({"items":[{"name":"a"}]})j", "items[0] has no \"value\""},
           Case{R"j({"items":[{"name":"a","value":"lots"}]})j", "items[0]: \"value\" \"lots\" is not a Kubernetes quantity"},
           Case{R"j({"items":[{"name":"a","value":true}]})j", "items[0]: \"value\" is a boolean, not a quantity"},
           Case{R"j({"items":[{"name":"Bad_Name","value":"1"}]})j", "items[0]: "},
           Case{R"j({"items":[{"name":"a","value":"1"},{"name":"a","value":"2"}]})j", "items[1]: a is listed twice"},
           Case{R"j({"items":[{"name":"a","value":"1","unit":"s"}]})j", "unknown key \"unit\" in items[0]"},
           Case{"{\"items\":[{\"name\":\"a\xff\",\"value\":\"1\"}]}", "the output is not JSON"},
       }) {
    INFO(c.out);
    CHECK_THAT(error_of([&] { parse_selector_output(c.out); }), Catch::StartsWith(c.expected));
  }
  // Deep nesting is an error, not a stack overflow.
  std::string deep = R"j({"items":)j" + std::string(200000, '[');
  CHECK_THAT(error_of([&] { parse_selector_output(deep); }), Catch::StartsWith("the output is not JSON"));
}

TEST_CASE("external values: labels and quantities") {
  auto values = parse_external_output(R"j({"items":[{"labels":{"queue":"orders"},"value":"42"},{"value":"1"}]})j");
  REQUIRE(values.size() == 2);
  CHECK(values[0].labels == api::Labels{{"queue", "orders"}});
  CHECK(values[1].labels.empty());
  CHECK_THAT(error_of([] { parse_external_output(R"j({"items":[{"labels":{"q":1},"value":"1"}]})j"); }),
             Catch::StartsWith("items[0]: label q is not a string"));
  CHECK_THAT(error_of([] { parse_external_output(R"j({"items":[{"labels":{"q":"a b"},"value":"1"}]})j"); }),
             Catch::StartsWith("items[0]: "));
  CHECK_THAT(error_of([] { parse_external_output(R"j({"items":[{"value":"1"},{"labels":{},"value":"2"}]})j"); }),
             Catch::StartsWith("items[1]: the same labels are listed twice"));
  CHECK_THAT(error_of([] { parse_external_output(R"j({"items":[{"labels":{"q":"a","q":"b"},"value":"1"}]})j"); }),
             Catch::StartsWith("items[0]: label q is given twice"));
}
