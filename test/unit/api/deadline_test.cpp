#include "lib/api/deadline.h"

#include <catch2/catch.hpp>

using sma::api::Deadline;
using namespace std::chrono;

namespace {
const Deadline::Clock::time_point t0 = Deadline::Clock::time_point{} + hours(1);
}

TEST_CASE("an unbounded deadline never expires and never shortens a timeout", "[deadline]") {
  Deadline none;
  CHECK_FALSE(none.bounded());
  CHECK_FALSE(none.expired(Deadline::Clock::time_point::max() - seconds(1)));
  CHECK(none.remaining(t0) == milliseconds::max());
  CHECK(none.clamp(seconds(5), t0) == seconds(5));
  CHECK(none.end_of(seconds(5), t0) == t0 + seconds(5));
}

TEST_CASE("time left counts down to zero and stays there", "[deadline]") {
  auto d = Deadline::after(seconds(10), t0);
  CHECK(d.bounded());
  CHECK(d.when() == t0 + seconds(10));
  CHECK(d.remaining(t0) == seconds(10));
  CHECK(d.remaining(t0 + milliseconds(9500)) == milliseconds(500));
  CHECK(d.remaining(t0 + microseconds(9999500)) == milliseconds(0));  // rounded down
  CHECK_FALSE(d.expired(t0 + microseconds(9999500)));
  CHECK(d.expired(t0 + seconds(10)));
  CHECK(d.remaining(t0 + seconds(10)) == milliseconds(0));
  CHECK(d.remaining(t0 + seconds(60)) == milliseconds(0));
}

TEST_CASE("a call started under a deadline gets min(its timeout, time left)", "[deadline]") {
  auto d = Deadline::after(seconds(10), t0);
  // --backend-timeout 5s with 10 s left: the backend timeout rules.
  CHECK(d.clamp(seconds(5), t0) == seconds(5));
  CHECK(d.end_of(seconds(5), t0) == t0 + seconds(5));
  // 3 s left: the deadline rules.
  CHECK(d.clamp(seconds(5), t0 + seconds(7)) == seconds(3));
  CHECK(d.end_of(seconds(5), t0 + seconds(7)) == t0 + seconds(10));
  // Past it: nothing left, never a negative budget.
  CHECK(d.clamp(seconds(5), t0 + seconds(11)) == milliseconds(0));
  CHECK(d.end_of(seconds(5), t0 + seconds(11)) == t0 + seconds(10));
  CHECK(d.clamp(milliseconds(-1), t0) == milliseconds(0));
}

TEST_CASE("a negative or zero budget is already expired", "[deadline]") {
  CHECK(Deadline::after(milliseconds(0), t0).expired(t0));
  CHECK(Deadline::after(milliseconds(-5), t0).when() == t0);
  CHECK(Deadline::at(t0).expired(t0));
  CHECK_FALSE(Deadline::at(t0).expired(t0 - milliseconds(1)));
}
