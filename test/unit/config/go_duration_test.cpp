#include <catch2/catch.hpp>

#include "lib/config/go_duration.h"

using namespace std::chrono;
using sma::config::format_go_duration;
using sma::config::parse_go_duration;

TEST_CASE("Go durations parse") {
  CHECK(parse_go_duration("0") == nanoseconds(0));
  CHECK(parse_go_duration("500ms") == milliseconds(500));
  CHECK(parse_go_duration("10s") == seconds(10));
  CHECK(parse_go_duration("1m") == minutes(1));
  CHECK(parse_go_duration("1h30m") == minutes(90));
  CHECK(parse_go_duration("1.5s") == milliseconds(1500));
  CHECK(parse_go_duration("250us") == microseconds(250));
  CHECK(parse_go_duration("\xC2\xB5s") == std::nullopt);
  CHECK(parse_go_duration("3\xC2\xB5s") == microseconds(3));
  CHECK(parse_go_duration("7ns") == nanoseconds(7));
}

TEST_CASE("malformed durations are refused") {
  for (auto text : {"", "10", "s", "1x", "-1s", "1.s5", "1s ", " 1s", "9999999999h", ".s"}) {
    INFO(text);
    CHECK_FALSE(parse_go_duration(text));
  }
}

TEST_CASE("durations format like Go") {
  CHECK(format_go_duration(minutes(10)) == "10m0s");
  CHECK(format_go_duration(seconds(90)) == "1m30s");
  CHECK(format_go_duration(milliseconds(500)) == "500ms");
  CHECK(format_go_duration(milliseconds(1500)) == "1.5s");
  CHECK(format_go_duration(hours(1)) == "1h0m0s");
  CHECK(format_go_duration(seconds(0)) == "0s");
}
