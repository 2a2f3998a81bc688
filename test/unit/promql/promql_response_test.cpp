#include "providers/promql/promql_response.h"

#include <catch2/catch.hpp>

#include <string>

using sma::api::Labels;
using sma::providers::promql::parse_instant_query_response;
using sma::providers::promql::parse_label_values_response;
using sma::providers::promql::PromqlResponseError;
using Kind = sma::providers::promql::PromqlResponseError::Kind;

namespace {

std::string vector_of(const std::string& result) {
  return R"({"status":"success","data":{"resultType":"vector","result":[)" + result + "]}}";
}

// The error a body raises, checked to be of `kind`.
PromqlResponseError error_of(std::string_view body, Kind kind) {
  try {
    parse_instant_query_response(std::string(body));
  } catch (const PromqlResponseError& e) {
    CHECK(static_cast<int>(e.kind()) == static_cast<int>(kind));
    return e;
  }
  FAIL("parsed without an error");
  return {kind, "", ""};
}

std::string label_values_error(std::string_view body) {
  try {
    parse_label_values_response(body);
  } catch (const PromqlResponseError& e) {
    CHECK(e.kind() == Kind::Malformed);
    return e.what();
  }
  FAIL("parsed without an error");
  return {};
}

}  // namespace

TEST_CASE("vector answers give their samples", "[promql][response]") {
  auto samples = parse_instant_query_response(vector_of(
      R"({"metric":{"__name__":"up","kube_pod_name":"kuard-1","job":"é日本"},"value":[1744272414,"0.58"]},)"
      R"({"metric":{},"value":[1744272414.125,"NaN"]},)"
      R"({"metric":{"a":""},"value":[0,"+Inf"]},)"
      R"({"metric":{"a":"b"},"value":[1e9,"1e+21"]})"));
  REQUIRE(samples.size() == 4);
  CHECK(samples[0].labels == Labels{{"__name__", "up"}, {"kube_pod_name", "kuard-1"}, {"job", "é日本"}});
  CHECK(samples[0].timestamp == 1744272414);
  CHECK(samples[0].value == "0.58");
  CHECK(samples[1].labels.empty());
  CHECK(samples[1].timestamp == 1744272414.125);
  CHECK(samples[1].value == "NaN");  // passed through as text
  CHECK(samples[2].labels == Labels{{"a", ""}});
  CHECK(samples[2].value == "+Inf");
  CHECK(samples[3].timestamp == 1e9);
  CHECK(samples[3].value == "1e+21");
}

TEST_CASE("an empty vector, warnings and unknown keys are fine", "[promql][response]") {
  CHECK(parse_instant_query_response(vector_of("")).empty());
  auto samples = parse_instant_query_response(
      R"({"status":"success","warnings":["w"],"infos":["i"],"extra":1,)"
      R"("data":{"resultType":"vector","result":[{"metric":{"a":"b"},"value":[1,"2"]}],"stats":{}}})");
  REQUIRE(samples.size() == 1);
  CHECK(samples[0].value == "2");
  // Whitespace around tokens is JSON too.
  CHECK(parse_instant_query_response(" \n{ \"status\" : \"success\" , \"data\" : { \"resultType\" : \"vector\" , "
                                     "\"result\" : [ ] } }\n")
            .empty());
}

TEST_CASE("a scalar answer is one sample without labels", "[promql][response]") {
  auto samples =
      parse_instant_query_response(R"({"status":"success","data":{"resultType":"scalar","result":[1744272414,"3.5"]}})");
  REQUIRE(samples.size() == 1);
  CHECK(samples[0].labels.empty());
  CHECK(samples[0].timestamp == 1744272414);
  CHECK(samples[0].value == "3.5");
}

TEST_CASE("error envelopes become Api errors", "[promql][response]") {
  auto e = error_of(R"({"status":"error","errorType":"bad_data","error":"parse error at char 5: unexpected"})",
                    Kind::Api);
  CHECK(e.error_type() == "bad_data");
  CHECK(std::string(e.what()) == "parse error at char 5: unexpected");

  auto untyped = error_of(R"({"status":"error","error":"boom"})", Kind::Api);
  CHECK(untyped.error_type().empty());
  CHECK(std::string(untyped.what()) == "boom");

  // A long backend message is cut short, on a character boundary.
  std::string long_text;
  for (int i = 0; i < 300; ++i) long_text += "é";
  auto long_error = error_of(R"({"status":"error","errorType":"execution","error":")" + long_text + R"("})", Kind::Api);
  std::string message = long_error.what();
  CHECK(message.size() <= 200);
  CHECK(message.ends_with("..."));
  CHECK(message.substr(0, message.size() - 3).size() % 2 == 0);  // whole two-byte characters only

  // The same envelope on the label values endpoint.
  try {
    parse_label_values_response(R"({"status":"error","errorType":"unavailable","error":"down"})");
    FAIL("parsed");
  } catch (const PromqlResponseError& error) {
    CHECK(error.kind() == Kind::Api);
    CHECK(error.error_type() == "unavailable");
  }
}

TEST_CASE("malformed answers name what is wrong", "[promql][response]") {
  struct Case {
    std::string body;
    const char* message;  // a part of the error message
  };
  const Case cases[] = {
      {"", "the backend answer is not JSON"},
      {R"({"status":"success","data":{"resultType":"vector","result":[)", "the backend answer is not JSON"},
      {std::string("<html>\0\xff</html>", 15), R"(it starts "<html>\x00\xff</html>")"},
      {R"({"status":"success"} trailing)", "the backend answer is not JSON"},
      // A whole answer, then a NUL and more: the part after the NUL must not be ignored.
      {vector_of(R"({"metric":{},"value":[1,"1"]})") + std::string("\0{}", 3), "a NUL byte (at byte"},
      {R"({'status':'success'})", "the backend answer is not JSON"},
      {vector_of(R"({"metric":{},"value":[1,NaN]})"), "the backend answer is not JSON"},
      {vector_of(R"({"metric":{},"value":[1e400,"1"]})"), "the backend answer is not JSON"},
      {vector_of("{\"metric\":{\"a\":\"\xff\"},\"value\":[1,\"1\"]}"), "the backend answer is not JSON"},
      {"[]", "the answer is not an object (it is an array)"},
      {"null", "the answer is not an object (it is null)"},
      {"{}", R"(the answer has no "status")"},
      {R"({"status":1})", "status is not a string (it is a number)"},
      {R"({"status":"pending","data":{}})", R"(status is "pending", not "success" or "error")"},
      {R"({"status":"error","errorType":"x"})", R"(an error answer has no "error" string)"},
      {R"({"status":"error","error":5})", R"(an error answer has no "error" string)"},
      {R"({"status":"success"})", R"(the answer has no "data")"},
      {R"({"status":"success","data":[]})", "data is not an object (it is an array)"},
      {R"({"status":"success","data":{"result":[]}})", R"(data has no "resultType")"},
      {R"({"status":"success","data":{"resultType":7,"result":[]}})", "data.resultType is not a string"},
      {R"({"status":"success","data":{"resultType":"vector"}})", R"(data has no "result")"},
      {R"({"status":"success","data":{"resultType":"matrix","result":[]}})", R"(data.resultType is "matrix")"},
      {R"({"status":"success","data":{"resultType":"string","result":[1,"x"]}})", R"(data.resultType is "string")"},
      {R"({"status":"success","data":{"resultType":"vector","result":{}}})", "data.result is not an array"},
      {vector_of("1"), "data.result[0] is not an object (it is a number)"},
      {vector_of(R"({"value":[1,"1"]})"), R"(data.result[0] has no "metric")"},
      {vector_of(R"({"metric":{}})"), R"(data.result[0] has no "value")"},
      {vector_of(R"({"metric":[],"value":[1,"1"]})"), "data.result[0].metric is not an object"},
      {vector_of(R"({"metric":{"job":1},"value":[1,"1"]})"), R"(data.result[0].metric["job"] is not a string)"},
      {vector_of(R"({"metric":{"job":null},"value":[1,"1"]})"), R"(data.result[0].metric["job"] is not a string)"},
      {vector_of(R"({"metric":{"a":"1","a":"2"},"value":[1,"1"]})"), R"(data.result[0].metric has the label "a" twice)"},
      {vector_of(R"({"metric":{},"value":"1"})"), "data.result[0].value is not an array"},
      {vector_of(R"({"metric":{},"value":[1]})"), "data.result[0].value has 1 elements, not 2"},
      {vector_of(R"({"metric":{},"value":[1,"1",2]})"), "data.result[0].value has 3 elements, not 2"},
      {vector_of(R"({"metric":{},"value":["1","1"]})"), "data.result[0].value[0] is not a number"},
      {vector_of(R"({"metric":{},"value":[1,"1"]},{"metric":{},"value":[1,"1"]},{"metric":{},"value":[1,1]})"),
       "data.result[2].value[1] is not a string (it is a number)"},
      {vector_of(R"({"metric":{},"histogram":[1,{}]})"), R"(data.result[0] has no "value")"},
      {R"({"status":"success","data":{"resultType":"scalar","result":"1"}})", "data.result is not an array"},
      {R"({"status":"success","data":{"resultType":"scalar","result":[1,2]}})", "data.result[1] is not a string"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.body);
    std::string message = error_of(c.body, Kind::Malformed).what();
    CHECK_THAT(message, Catch::Contains(c.message));
  }
}

TEST_CASE("messages never carry much of the body", "[promql][response]") {
  const std::string bodies[] = {
      std::string(1 << 20, 'x'),
      std::string(1 << 20, '\xff'),
      R"({"status":")" + std::string(10000, 's') + R"("})",
      vector_of(R"({"metric":{")" + std::string(10000, 'k') + R"(":1},"value":[1,"1"]})"),
      R"({"status":"success","data":{"resultType":")" + std::string(10000, 't') + R"(","result":[]}})",
  };
  for (const auto& body : bodies) {
    std::string message = error_of(body, Kind::Malformed).what();
    CAPTURE(message);
    CHECK(message.size() < 200);
  }
}

TEST_CASE("deeply nested bodies fail cleanly", "[promql][response]") {
  const std::size_t depth = 100000;
  CHECK_THAT(error_of(std::string(depth, '['), Kind::Malformed).what(), Catch::Contains("not JSON"));
  CHECK_THAT(error_of(std::string(depth, '[') + std::string(depth, ']'), Kind::Malformed).what(),
             Catch::Contains("the answer is not an object"));
  std::string deep_label = vector_of(R"({"metric":{"a":)" + std::string(depth, '[') + std::string(depth, ']') +
                                     R"(},"value":[1,"1"]})");
  CHECK_THAT(error_of(deep_label, Kind::Malformed).what(), Catch::Contains(R"(metric["a"] is not a string)"));
}

TEST_CASE("strings that decode to invalid UTF-8 are refused", "[promql][response]") {
  // Found by test/fuzz/promql_response_fuzzer: RapidJSON 1.1.0 decodes a lone low surrogate escape
  // into the bytes ED B0 80, which then reached label values and Status messages.
  CHECK_THAT(error_of(vector_of(R"({"metric":{"a":"x\udc00"},"value":[1,"1"]})"), Kind::Malformed).what(),
             Catch::Contains("not UTF-8"));
  CHECK_THAT(error_of(vector_of(R"({"metric":{"\udfff":"x"},"value":[1,"1"]})"), Kind::Malformed).what(),
             Catch::Contains("not UTF-8"));
  CHECK_THAT(error_of(R"({"status":"error","errorType":"bad_data","error":"at char 5\udc00"})", Kind::Malformed).what(),
             Catch::Contains("not UTF-8"));
  CHECK_THAT(label_values_error(R"({"status":"success","data":["\udc00"]})"), Catch::Contains("not UTF-8"));
  // A surrogate pair is one character, and stays accepted.
  auto samples = parse_instant_query_response(vector_of(R"({"metric":{"a":"\ud83d\ude00"},"value":[1,"1"]})"));
  REQUIRE(samples.size() == 1);
  CHECK(samples[0].labels.at("a") == "\xF0\x9F\x98\x80");
}

TEST_CASE("label values answers give their strings", "[promql][response]") {
  CHECK(parse_label_values_response(R"({"status":"success","data":["a","b"]})") == std::vector<std::string>{"a", "b"});
  CHECK(parse_label_values_response(R"({"status":"success","data":[],"warnings":["x"]})").empty());
  CHECK_THAT(label_values_error(R"({"status":"success","data":{}})"), Catch::Contains("data is not an array"));
  CHECK_THAT(label_values_error(R"({"status":"success","data":["a",1]})"),
             Catch::Contains("data[1] is not a string (it is a number)"));
  CHECK_THAT(label_values_error(R"({"status":"success"})"), Catch::Contains(R"(the answer has no "data")"));
  CHECK_THAT(label_values_error("not json"), Catch::Contains("the backend answer is not JSON"));
}
