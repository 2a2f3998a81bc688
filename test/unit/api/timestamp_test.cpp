#include "lib/api/timestamp.h"

#include <catch2/catch.hpp>

#include <random>

using namespace sma::api;
using namespace std::chrono;

namespace {

Clock::time_point at(int y, unsigned m, unsigned d, int hh = 0, int mm = 0, int ss = 0) {
  return Clock::time_point{sys_days{year{y} / month{m} / day{d}}.time_since_epoch() + hours{hh} +
                           minutes{mm} + seconds{ss}};
}

}  // namespace

TEST_CASE("format_rfc3339 writes UTC with whole seconds", "[timestamp]") {
  CHECK(format_rfc3339(Clock::time_point{}) == "1970-01-01T00:00:00Z");
  CHECK(format_rfc3339(at(2026, 1, 1, 10)) == "2026-01-01T10:00:00Z");
  CHECK(format_rfc3339(at(2024, 2, 29, 23, 59, 59)) == "2024-02-29T23:59:59Z");
  CHECK(format_rfc3339(at(2000, 12, 31, 1, 2, 3)) == "2000-12-31T01:02:03Z");
  CHECK(format_rfc3339(Clock::time_point{seconds{1523864340}}) == "2018-04-16T07:39:00Z");
  // Sub-second parts are dropped, never rounded up into the next second.
  CHECK(format_rfc3339(at(2026, 1, 1, 10) + milliseconds{999}) == "2026-01-01T10:00:00Z");
  CHECK(format_rfc3339(Clock::time_point{} - milliseconds{500}) == "1969-12-31T23:59:59Z");
}

TEST_CASE("parse_rfc3339 reads Z, offsets and fractions", "[timestamp]") {
  CHECK(parse_rfc3339("2026-01-01T10:00:00Z") == at(2026, 1, 1, 10));
  CHECK(parse_rfc3339("2026-01-01t10:00:00z") == at(2026, 1, 1, 10));
  CHECK(parse_rfc3339("2026-01-01T10:00:00+02:00") == at(2026, 1, 1, 8));
  CHECK(parse_rfc3339("2026-01-01T10:00:00-05:30") == at(2026, 1, 1, 15, 30));
  CHECK(parse_rfc3339("2026-01-01T00:30:00+01:00") == at(2025, 12, 31, 23, 30));
  CHECK(parse_rfc3339("2026-01-01T10:00:00-00:00") == at(2026, 1, 1, 10));
  CHECK(parse_rfc3339("2026-01-01T10:00:00.5Z") == at(2026, 1, 1, 10) + milliseconds{500});
  CHECK(parse_rfc3339("2026-01-01T10:00:00.123456789Z") ==
        at(2026, 1, 1, 10) + duration_cast<Clock::duration>(nanoseconds{123456789}));
  CHECK(parse_rfc3339("2026-01-01T10:00:00.1234567899999Z") ==
        at(2026, 1, 1, 10) + duration_cast<Clock::duration>(nanoseconds{123456789}));
  CHECK(parse_rfc3339("2026-01-01T10:00:00.250+01:00") == at(2026, 1, 1, 9) + milliseconds{250});
  CHECK(parse_rfc3339("2024-02-29T12:00:00Z") == at(2024, 2, 29, 12));
  CHECK(parse_rfc3339("1969-12-31T23:59:59Z") == Clock::time_point{} - seconds{1});
}

TEST_CASE("parse_rfc3339 rejects malformed timestamps", "[timestamp]") {
  const char* const rejected[] = {
      "",
      "2026-01-01",
      "2026-01-01T10:00:00",
      "2026-01-01T10:00Z",
      "2026-01-01 10:00:00Z",
      "2026-01-01T10:00:00 Z",
      "2026-01-01T10:00:00ZZ",
      "2026-01-01T10:00:00Z ",
      " 2026-01-01T10:00:00Z",
      "2026-1-01T10:00:00Z",
      "26-01-01T10:00:00Z",
      "2026/01/01T10:00:00Z",
      "2026-13-01T10:00:00Z",
      "2026-00-01T10:00:00Z",
      "2026-01-00T10:00:00Z",
      "2026-02-29T10:00:00Z",
      "2026-04-31T10:00:00Z",
      "2026-01-01T24:00:00Z",
      "2026-01-01T10:60:00Z",
      "2026-01-01T10:00:60Z",
      "2026-01-01T10:00:00.Z",
      "2026-01-01T10:00:00,5Z",
      "2026-01-01T10:00:00+02",
      "2026-01-01T10:00:00+0200",
      "2026-01-01T10:00:00+24:00",
      "2026-01-01T10:00:00+02:60",
      "2026-01-01T10:00:00UTC",
      "2026-01-01T1a:00:00Z",
      "+026-01-01T10:00:00Z",
      "9999-12-31T23:59:59Z",  // outside the clock's nanosecond range
      "0001-01-01T00:00:00Z",
  };
  for (const char* text : rejected) {
    INFO("\"" << text << "\"");
    CHECK_FALSE(parse_rfc3339(text).has_value());
  }
}

TEST_CASE("timestamps round-trip through text", "[timestamp]") {
  std::mt19937_64 random(42);
  // 1900 .. 2200, well inside the clock's range.
  const std::int64_t earliest = -2208988800;
  const std::int64_t latest = 7258118400;
  for (int i = 0; i < 20000; ++i) {
    const auto t = Clock::time_point{seconds{
        earliest + static_cast<std::int64_t>(random() % static_cast<std::uint64_t>(latest - earliest))}};
    const std::string text = format_rfc3339(t);
    INFO("text " << text);
    REQUIRE(text.size() == 20);
    const auto parsed = parse_rfc3339(text);
    REQUIRE(parsed.has_value());
    REQUIRE(*parsed == t);
  }
}
