#include "lib/kube/retry_policy.h"

#include <catch2/catch.hpp>

using namespace std::chrono_literals;
using sma::http::FetchError;
using sma::kube::backoff_delay;
using sma::kube::CallKind;
using sma::kube::retry_after_delay;
using sma::kube::worth_retrying_failure;
using sma::kube::worth_retrying_status;

TEST_CASE("reads retry 429 and 5xx, writes only 429 and 503", "[retry]") {
  for (int status : {429, 500, 502, 503, 504}) CHECK(worth_retrying_status(status, CallKind::Read));
  for (int status : {200, 400, 401, 403, 404, 409, 410, 422}) {
    CHECK_FALSE(worth_retrying_status(status, CallKind::Read));
  }
  CHECK(worth_retrying_status(429, CallKind::Write));
  CHECK(worth_retrying_status(503, CallKind::Write));
  CHECK_FALSE(worth_retrying_status(500, CallKind::Write));
  CHECK_FALSE(worth_retrying_status(504, CallKind::Write));
}

TEST_CASE(
    "reads retry every transport failure but an oversized answer, writes only a failed connect",
    "[retry]") {
  using Kind = FetchError::Kind;
  for (Kind kind : {Kind::Timeout, Kind::Connect, Kind::Protocol}) {
    CHECK(worth_retrying_failure(kind, CallKind::Read));
  }
  CHECK_FALSE(worth_retrying_failure(Kind::BodyTooLarge, CallKind::Read));
  CHECK(worth_retrying_failure(Kind::Connect, CallKind::Write));
  for (Kind kind : {Kind::Timeout, Kind::Protocol, Kind::BodyTooLarge}) {
    CHECK_FALSE(worth_retrying_failure(kind, CallKind::Write));
  }
}

TEST_CASE("backoff doubles from the initial delay with jitter around it", "[retry]") {
  CHECK(backoff_delay(1, 100ms, 0.5) == 100ms);
  CHECK(backoff_delay(2, 100ms, 0.5) == 200ms);
  CHECK(backoff_delay(3, 100ms, 0.5) == 400ms);
  CHECK(backoff_delay(1, 100ms, 0.0) == 50ms);
  CHECK(backoff_delay(1, 100ms, 0.99) >= 149ms);
  CHECK(backoff_delay(40, 100ms, 0.5) == 30000ms);  // capped
}

TEST_CASE("Retry-After in seconds is honoured up to 5 s", "[retry]") {
  CHECK(retry_after_delay("1") == std::chrono::milliseconds(1000));
  CHECK(retry_after_delay(" 2 ") == std::chrono::milliseconds(2000));
  CHECK(retry_after_delay("0") == std::chrono::milliseconds(0));
  CHECK(retry_after_delay("120") == std::chrono::milliseconds(5000));
  CHECK_FALSE(retry_after_delay(""));
  CHECK_FALSE(retry_after_delay("Wed, 21 Oct 2015 07:28:00 GMT"));
  CHECK_FALSE(retry_after_delay("-1"));
  CHECK_FALSE(retry_after_delay("99999999999999999999"));
}
