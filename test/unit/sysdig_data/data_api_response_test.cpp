#include "providers/sysdig_data/data_api_response.h"

#include <catch2/catch.hpp>

#include <string>

using sma::providers::sysdig_data::DataApiResponseError;
using sma::providers::sysdig_data::DataRow;
using sma::providers::sysdig_data::parse_data_response;
using sma::providers::sysdig_data::parse_descriptors_response;
using sma::providers::sysdig_data::parse_error_message;

namespace {

std::string data_error(std::string_view body, std::size_t key_count) {
  try {
    parse_data_response(body, key_count);
  } catch (const DataApiResponseError& e) {
    return e.what();
  }
  FAIL("parsed without an error");
  return {};
}

std::string descriptors_error(std::string_view body) {
  try {
    parse_descriptors_response(body);
  } catch (const DataApiResponseError& e) {
    return e.what();
  }
  FAIL("parsed without an error");
  return {};
}

std::string rows_of(const std::string& rows) { return R"({"start":1523864330,"end":1523864350,"data":[)" + rows + "]}"; }

}  // namespace

TEST_CASE("an unsegmented answer gives one row", "[sysdig_data][response]") {
  auto rows = parse_data_response(R"({"start":1523864330,"end":1523864350,"data":[{"t":1523864340,"d":[0.127]}]})", 0);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].t == 1523864340);
  CHECK(rows[0].keys.empty());
  CHECK(rows[0].value == 0.127);
  CHECK(parse_data_response(rows_of(""), 0).empty());
  CHECK(parse_data_response(R"({"data":[]})", 3).empty());  // start and end are not needed
}

TEST_CASE("segmented rows carry their keys; rows without a value are dropped", "[sysdig_data][response]") {
  auto rows = parse_data_response(rows_of(R"({"t":1,"d":["kuard-1",10.5]},)"
                                          R"({"t":1,"d":["kuard-2",null]},)"
                                          R"({"t":2,"d":[8080,3]},)"
                                          R"({"t":3,"d":[null,4]},)"
                                          R"({"t":4,"d":[1.5,-1]},)"
                                          R"({"t":5,"d":[-7,0]},)"
                                          R"({"t":6,"d":[18446744073709551615,1e300]},)"
                                          R"({"t":7,"d":["kuard-3",NaN]},)"
                                          R"({"t":8,"d":["kuard-4",Infinity]},)"
                                          R"({"t":9,"d":["kuard-5",-Infinity]},)"
                                          R"({"t":10,"d":["kuard-6"]},)"
                                          R"({"t":11,"d":["é日本",6442450944]})"),
                                  1);
  struct Expected {
    std::int64_t t;
    const char* key;
    double value;
  };
  const Expected expected[] = {{1, "kuard-1", 10.5}, {2, "8080", 3},      {3, "", 4},
                               {4, "1.5", -1},       {5, "-7", 0},        {6, "18446744073709551615", 1e300},
                               {11, "é日本", 6442450944}};
  REQUIRE(rows.size() == std::size(expected));
  for (std::size_t i = 0; i < rows.size(); ++i) {
    CAPTURE(i);
    CHECK(rows[i].t == expected[i].t);
    CHECK(rows[i].keys == std::vector<std::string>{expected[i].key});
    CHECK(rows[i].value == expected[i].value);
  }

  auto two_keys = parse_data_response(rows_of(R"({"t":1,"d":["default","kuard-1",2]})"), 2);
  REQUIRE(two_keys.size() == 1);
  CHECK(two_keys[0].keys == std::vector<std::string>{"default", "kuard-1"});
  CHECK(two_keys[0].value == 2);
}

TEST_CASE("malformed data answers name the place", "[sysdig_data][response]") {
  struct Case {
    std::string body;
    std::size_t key_count;
    const char* message;
  };
  const Case cases[] = {
      {"", 0, "the backend answer is not JSON"},
      {R"({"data":[{"t":1,"d":[1]})", 0, "the backend answer is not JSON"},
      {std::string("<html>\0\xff", 8), 0, R"(it starts "<html>\x00\xff")"},
      {"{\"data\":[{\"t\":1,\"d\":[\"\xff\",1]}]}", 1, "the backend answer is not JSON"},
      {rows_of(R"({"t":1,"d":[1e400]})"), 0, "the backend answer is not JSON"},
      {"[]", 0, "the answer is not an object (it is an array)"},
      {"{}", 0, R"(the answer has no "data")"},
      {R"({"data":{}})", 0, "data is not an array (it is an object)"},
      {R"({"start":"1","data":[]})", 0, "start is not an integer (it is a string)"},
      {R"({"end":1.5,"data":[]})", 0, "end is not an integer (it is a number)"},
      {rows_of("[]"), 0, "data[0] is not an object (it is an array)"},
      {rows_of(R"({"d":[1]})"), 0, R"(data[0] has no "t")"},
      {rows_of(R"({"t":1})"), 0, R"(data[0] has no "d")"},
      {rows_of(R"({"t":1,"d":[1]},{"t":"2","d":[1]})"), 0, "data[1].t is not an integer (it is a string)"},
      {rows_of(R"({"t":1.5,"d":[1]})"), 0, "data[0].t is not an integer (it is a number)"},
      {rows_of(R"({"t":1,"d":{}})"), 0, "data[0].d is not an array"},
      {rows_of(R"({"t":1,"d":[1]})"), 2, "data[0].d has 1 elements, expected 2 keys and a value"},
      {rows_of(R"({"t":1,"d":["a","b",1]})"), 1, "data[0].d has 3 elements, expected 1 keys and a value"},
      {rows_of(R"({"t":1,"d":[true,1]})"), 1, "data[0].d[0] is not a string, number or null (it is a boolean)"},
      {rows_of(R"({"t":1,"d":[{},1]})"), 1, "data[0].d[0] is not a string, number or null (it is an object)"},
      {rows_of(R"({"t":1,"d":["a","1"]})"), 1, "data[0].d[1] is not a number or null (it is a string)"},
      {rows_of(R"({"t":1,"d":["NaN"]})"), 0, "data[0].d[0] is not a number or null (it is a string)"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.body);
    CHECK_THAT(data_error(c.body, c.key_count), Catch::Contains(c.message));
  }
}

TEST_CASE("data answer messages stay short and bodies nest safely", "[sysdig_data][response]") {
  CHECK(data_error(std::string(1 << 20, '\xff'), 0).size() < 200);
  CHECK(data_error(std::string(100000, '[') + std::string(100000, ']'), 0) ==
        "the answer is not an object (it is an array)");
  CHECK_THAT(data_error(std::string(100000, '{'), 0), Catch::Contains("not JSON"));
}

TEST_CASE("error bodies give Sysdig's message", "[sysdig_data][response]") {
  CHECK(parse_error_message(R"({"message":"Unauthorized","request_id":"6f1c"})") == "Unauthorized");
  CHECK(parse_error_message(R"({"errors":[{"reason":"x","message":"bad filter"},{"message":"and more"}]})") ==
        "bad filter; and more");
  CHECK(parse_error_message(R"({"message":"","errors":[{"message":"from errors"}]})") == "from errors");
  CHECK(parse_error_message("<html>502</html>") == std::nullopt);
  CHECK(parse_error_message("") == std::nullopt);
  CHECK(parse_error_message(R"(["message"])") == std::nullopt);
  CHECK(parse_error_message(R"({"message":5})") == std::nullopt);
  CHECK(parse_error_message(R"({"errors":"x"})") == std::nullopt);
  CHECK(parse_error_message(R"({"errors":[1,{"message":null}]})") == std::nullopt);
  CHECK(parse_error_message(R"({"status":503})") == std::nullopt);

  std::string long_text;
  for (int i = 0; i < 500; ++i) long_text += "é";
  auto message = parse_error_message(R"({"message":")" + long_text + R"("})");
  REQUIRE(message.has_value());
  CHECK(message->size() <= 200);
  CHECK(message->ends_with("..."));
  CHECK(message->substr(0, message->size() - 3).size() % 2 == 0);  // whole two-byte characters only

  std::string many_errors = R"({"errors":[)";
  for (int i = 0; i < 100; ++i) many_errors += std::string(i ? "," : "") + R"({"message":"error number )" + std::to_string(i) + R"("})";
  many_errors += "]}";
  auto joined = parse_error_message(many_errors);
  REQUIRE(joined.has_value());
  CHECK(joined->size() <= 200);
  CHECK(joined->starts_with("error number 0; error number 1; "));
}

TEST_CASE("strings that decode to invalid UTF-8 are refused", "[sysdig_data][response]") {
  // Found by test/fuzz/data_api_response_fuzzer: RapidJSON 1.1.0 decodes a lone low surrogate escape
  // into the bytes ED B0 80, which then reached keys and quoted error messages.
  CHECK_THAT(data_error(rows_of(R"({"t":1,"d":["pod\udc00",1]})"), 1), Catch::Contains("not UTF-8"));
  CHECK_THAT(descriptors_error(R"({"total":1,"metricDescriptors":[{"id":"\udc00"}]})"), Catch::Contains("not UTF-8"));
  CHECK(parse_error_message(R"({"message":"unknown metric\udc00"})") == std::nullopt);
  auto rows = parse_data_response(rows_of(R"({"t":1,"d":["\ud83d\ude00",1]})"), 1);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].keys[0] == "\xF0\x9F\x98\x80");
}

TEST_CASE("descriptor pages give ids and types", "[sysdig_data][response]") {
  auto page = parse_descriptors_response(
      R"({"total":3,"offset":0,"metricDescriptors":[)"
      R"({"id":"net.http.request.count","metricType":"counter","type":"integer","category":"network"},)"
      R"({"id":"kubernetes.pod.name","metricType":"tag"},)"
      R"({"id":"cpu.cores.used"}]})");
  CHECK(page.total == 3);
  REQUIRE(page.descriptors.size() == 3);
  CHECK(page.descriptors[0].id == "net.http.request.count");
  CHECK(page.descriptors[0].metric_type == "counter");
  CHECK(page.descriptors[1].metric_type == "tag");
  CHECK(page.descriptors[2].id == "cpu.cores.used");
  CHECK(page.descriptors[2].metric_type.empty());

  auto empty = parse_descriptors_response(R"({"total":0,"metricDescriptors":[]})");
  CHECK(empty.total == 0);
  CHECK(empty.descriptors.empty());
}

TEST_CASE("malformed descriptor pages name the place", "[sysdig_data][response]") {
  struct Case {
    const char* body;
    const char* message;
  };
  const Case cases[] = {
      {"nope", "the backend answer is not JSON"},
      {"[]", "the answer is not an object"},
      {R"({"metricDescriptors":[]})", R"(the answer has no "total")"},
      {R"({"total":"3","metricDescriptors":[]})", "total is not an integer (it is a string)"},
      {R"({"total":1,"offset":"0","metricDescriptors":[]})", "offset is not an integer"},
      {R"({"total":1})", R"(the answer has no "metricDescriptors")"},
      {R"({"total":1,"metricDescriptors":{}})", "metricDescriptors is not an array"},
      {R"({"total":1,"metricDescriptors":["a"]})", "metricDescriptors[0] is not an object (it is a string)"},
      {R"({"total":1,"metricDescriptors":[{"id":"a"},{"metricType":"gauge"}]})", R"(metricDescriptors[1] has no "id")"},
      {R"({"total":1,"metricDescriptors":[{"id":5}]})", "metricDescriptors[0].id is not a string (it is a number)"},
      {R"({"total":1,"metricDescriptors":[{"id":"a","metricType":null}]})",
       "metricDescriptors[0].metricType is not a string (it is null)"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.body);
    CHECK_THAT(descriptors_error(c.body), Catch::Contains(c.message));
  }
}
