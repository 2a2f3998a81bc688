// Quantity::parse on arbitrary text, and Quantity::from_double on the first 8 bytes read as a
// double. Properties: parse(to_string()) == q and to_string() is stable (the canonical DecimalSI
// form: no '+', no fraction, no leading zeros); every finite double converts, keeps its sign,
// rounds away from zero by less than 1m, and round-trips through its string.
#include <cmath>
#include <cstring>
#include <exception>
#include <limits>

#include "lib/api/quantity.h"
#include "test/fuzz/fuzz_check.h"

namespace {

using namespace sma;
using fuzz::printable;

void check_canonical(const api::Quantity& q, std::string_view origin) {
  const std::string text = q.to_string();
  FUZZ_CHECK(!text.empty() && text.find_first_of("+. ") == std::string::npos,
             "to_string() " + printable(text) + " is not canonical (from " + printable(origin) + ")");
  std::string_view digits = text;
  if (digits.front() == '-') digits.remove_prefix(1);
  FUZZ_CHECK(!digits.empty() && digits.front() >= '0' && digits.front() <= '9' && (digits.front() != '0' || text == "0"),
             "to_string() " + printable(text) + " has no leading digit or a leading zero");
  const auto again = api::Quantity::parse(text);
  FUZZ_CHECK(again.has_value(), "to_string() " + printable(text) + " does not parse (from " + printable(origin) + ")");
  FUZZ_CHECK(*again == q, "parse(to_string()) != q for " + printable(text) + " (from " + printable(origin) + ")");
  FUZZ_CHECK(again->to_string() == text, "to_string() is not stable: " + printable(text) + " -> " + again->to_string());
  FUZZ_CHECK(q.is_zero() == (text == "0"), "is_zero() disagrees with " + printable(text));
  // Adding zero is exact and changes nothing.
  const auto sum = api::Quantity::add(q, api::Quantity::from_int(0));
  FUZZ_CHECK(sum && *sum == q, "q + 0 != q for " + printable(text));
}

void check_double(double value) {
  char shown[64];
  std::snprintf(shown, sizeof shown, "%.17g", value);
  std::optional<api::Quantity> q;
  try {
    q = api::Quantity::from_double(value);
  } catch (const std::exception& e) {
    FUZZ_CHECK(false, std::string("from_double threw ") + e.what() + " for " + shown);
  }
  if (!std::isfinite(value)) {
    FUZZ_CHECK(!q, std::string("from_double accepted ") + shown);
    return;
  }
  // Every finite double fits (DBL_MAX has 309 integer digits, the limit); see quantity.h.
  FUZZ_CHECK(q.has_value(), std::string("from_double rejected the finite ") + shown);
  check_canonical(*q, shown);
  const double back = q->to_double();
  if (value == 0) {
    FUZZ_CHECK(q->is_zero(), std::string("zero became ") + q->to_string());
    return;
  }
  // Rounded up to milli precision, away from zero, from the shortest decimal of the double.
  FUZZ_CHECK(value > 0 ? back >= value : back <= value,
             std::string("from_double(") + shown + ") = " + q->to_string() + " rounds towards zero");
  FUZZ_CHECK(std::fabs(back - value) <= 0.001 + std::fabs(value) * 1e-15,
             std::string("from_double(") + shown + ") = " + q->to_string() + " is off by 1m or more");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = fuzz::as_text(data, size);
  std::optional<api::Quantity> q;
  try {
    q = api::Quantity::parse(text);
  } catch (const std::exception& e) {
    FUZZ_CHECK(false, std::string("parse threw ") + e.what() + " for " + printable(text));
  }
  if (q) check_canonical(*q, text);

  if (size >= sizeof(double)) {
    double value = 0;
    std::memcpy(&value, data, sizeof value);
    check_double(value);
  }
  return 0;
}
