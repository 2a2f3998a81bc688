// Kubernetes quantities as exact decimals: parsing of the resource.Quantity grammar and the
// canonical DecimalSI serialisation.
#include "lib/api/quantity.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <string>
#include <system_error>

namespace sma::api {

namespace {

constexpr std::int64_t kMilliExponent = -3;

// Largest accepted value is just under 10^kMaxIntegerDigits: every finite double fits
// (DBL_MAX has 309 integer digits), and nobody gets a multi-megabyte string out of "1e999999".
constexpr std::int64_t kMaxIntegerDigits = 309;

// A suffix means "times 10^decimal_exponent times 1024^binary_power".
struct Suffix {
  std::int64_t decimal_exponent = 0;
  int binary_power = 0;
};

// The value as it was written, before rounding: (negative ? -1 : 1) * digits * 10^exponent.
struct WrittenDecimal {
  bool negative = false;
  std::string digits;  // decimal digits only, possibly with leading/trailing zeros
  std::int64_t exponent = 0;
};

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Parses "[+-]?[0-9]+" with no surrounding text into a bounded exponent. Exponents beyond
// +-10^15 cannot describe a value we would accept (or they round to 1m / 0 anyway, which the
// grammar makes pointless); rejecting them keeps the arithmetic below free of overflow.
std::optional<std::int64_t> parse_exponent(std::string_view text) {
  bool negative = false;
  if (!text.empty() && (text.front() == '+' || text.front() == '-')) {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  if (text.empty() || text.size() > 15) return std::nullopt;
  std::int64_t value = 0;
  for (char c : text) {
    if (!is_digit(c)) return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return negative ? -value : value;
}

std::optional<Suffix> parse_suffix(std::string_view text) {
  struct Named {
    std::string_view text;
    Suffix suffix;
  };
  static constexpr Named kNamed[] = {
      {"", {0, 0}},   {"n", {-9, 0}}, {"u", {-6, 0}}, {"m", {-3, 0}}, {"k", {3, 0}},
      {"M", {6, 0}},  {"G", {9, 0}},  {"T", {12, 0}}, {"P", {15, 0}}, {"E", {18, 0}},
      {"Ki", {0, 1}}, {"Mi", {0, 2}}, {"Gi", {0, 3}}, {"Ti", {0, 4}}, {"Pi", {0, 5}},
      {"Ei", {0, 6}},
  };
  for (const auto& named : kNamed) {
    if (named.text == text) return named.suffix;
  }
  // "e<int>" / "E<int>"; a lone "E" (exa) was matched above, a lone "e" is not a suffix.
  if (text.size() > 1 && (text.front() == 'e' || text.front() == 'E')) {
    if (auto exponent = parse_exponent(text.substr(1))) return Suffix{*exponent, 0};
  }
  return std::nullopt;
}

// <signedNumber><suffix> with <number> ::= <digits> | <digits>.<digits> | <digits>. | .<digits>
// A number needs at least one digit, so ".", "+" and "-" are rejected (Go's scanner is laxer
// than its own documented grammar here; we follow the grammar).
std::optional<WrittenDecimal> parse_written_decimal(std::string_view text) {
  WrittenDecimal result;
  std::size_t pos = 0;
  if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    result.negative = text[pos] == '-';
    ++pos;
  }
  const std::size_t integer_start = pos;
  while (pos < text.size() && is_digit(text[pos])) ++pos;
  result.digits.assign(text.substr(integer_start, pos - integer_start));

  std::size_t fraction_length = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    const std::size_t fraction_start = pos;
    while (pos < text.size() && is_digit(text[pos])) ++pos;
    fraction_length = pos - fraction_start;
    result.digits.append(text.substr(fraction_start, fraction_length));
  }
  if (result.digits.empty()) return std::nullopt;

  const auto suffix = parse_suffix(text.substr(pos));
  if (!suffix) return std::nullopt;

  result.exponent = suffix->decimal_exponent - static_cast<std::int64_t>(fraction_length);
  // 1024^k = 2^(10k): a fraction times a power of two is still an exact decimal, so the binary
  // factor is multiplied into the digits rather than approximated.
  for (int i = 0; i < suffix->binary_power; ++i) {
    unsigned carry = 0;
    for (auto it = result.digits.rbegin(); it != result.digits.rend(); ++it) {
      const unsigned product = static_cast<unsigned>(*it - '0') * 1024u + carry;
      *it = static_cast<char>('0' + product % 10);
      carry = product / 10;
    }
    while (carry != 0) {
      result.digits.insert(result.digits.begin(), static_cast<char>('0' + carry % 10));
      carry /= 10;
    }
  }
  return result;
}

std::optional<std::uint64_t> digits_to_uint64(std::string_view digits) {
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (error != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return value;
}

std::int64_t decimal_digit_count(std::uint64_t value) {
  std::int64_t count = 1;
  while (value >= 10) {
    value /= 10;
    ++count;
  }
  return count;
}

// Milli-precision value of a written decimal, rounded away from zero; nullopt if it does not fit
// an int64 mantissa (or exceeds kMaxIntegerDigits).
struct MilliRounded {
  std::int64_t mantissa = 0;
  std::int32_t exponent = 0;
};

std::optional<MilliRounded> round_to_milli(WrittenDecimal written) {
  std::string& digits = written.digits;
  const auto first_nonzero = digits.find_first_not_of('0');
  if (first_nonzero == std::string::npos) return MilliRounded{};
  digits.erase(0, first_nonzero);
  const auto last_nonzero = digits.find_last_not_of('0');
  written.exponent += static_cast<std::int64_t>(digits.size() - 1 - last_nonzero);
  digits.erase(last_nonzero + 1);

  std::uint64_t magnitude = 0;
  if (written.exponent < kMilliExponent) {
    // Digits below 1m are dropped; they are non-zero (trailing zeros were stripped), so the
    // kept part is bumped by one unit: rounding away from zero.
    const std::int64_t dropped = kMilliExponent - written.exponent;
    const auto kept_count = static_cast<std::int64_t>(digits.size()) - dropped;
    if (kept_count > 0) {
      const auto kept = digits_to_uint64(std::string_view(digits).substr(0, kept_count));
      if (!kept || *kept == std::numeric_limits<std::uint64_t>::max()) return std::nullopt;
      magnitude = *kept + 1;
    } else {
      magnitude = 1;
    }
    written.exponent = kMilliExponent;
  } else {
    const auto exact = digits_to_uint64(digits);
    if (!exact) return std::nullopt;
    magnitude = *exact;
  }

  const std::uint64_t limit = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) +
                              (written.negative ? 1u : 0u);
  if (magnitude > limit) return std::nullopt;
  if (decimal_digit_count(magnitude) + written.exponent > kMaxIntegerDigits) return std::nullopt;

  MilliRounded result;
  // Negating in unsigned arithmetic also covers the magnitude 2^63 of INT64_MIN.
  result.mantissa = written.negative ? static_cast<std::int64_t>(0u - magnitude)
                                     : static_cast<std::int64_t>(magnitude);
  result.exponent = static_cast<std::int32_t>(written.exponent);
  return result;
}

std::uint64_t magnitude_of(std::int64_t value) {
  return value < 0 ? 0u - static_cast<std::uint64_t>(value) : static_cast<std::uint64_t>(value);
}

std::string_view decimal_si_suffix(std::int32_t exponent) {
  switch (exponent) {
    case -3: return "m";
    case 3: return "k";
    case 6: return "M";
    case 9: return "G";
    case 12: return "T";
    case 15: return "P";
    case 18: return "E";
    default: return "";
  }
}

}  // namespace

Quantity::Quantity(std::int64_t mantissa, std::int32_t exponent)
    : mantissa_(mantissa), exponent_(exponent) {
  // Normalised so that equal values have equal representations (operator== relies on it).
  if (mantissa_ == 0) {
    exponent_ = 0;
    return;
  }
  while (mantissa_ % 10 == 0) {
    mantissa_ /= 10;
    ++exponent_;
  }
}

std::optional<Quantity> Quantity::parse(std::string_view text) {
  auto written = parse_written_decimal(text);
  if (!written) return std::nullopt;
  const auto rounded = round_to_milli(std::move(*written));
  if (!rounded) return std::nullopt;
  return Quantity(rounded->mantissa, rounded->exponent);
}

std::optional<Quantity> Quantity::from_double(double value) {
  if (!std::isfinite(value)) return std::nullopt;
  // Shortest digits that read back as the same double: 0.58 is "5.8e-01", not 0.57999999999999996.
  // Scientific form on purpose: where the plain form is chosen for large integers, it spells out
  // every digit of the binary value (5.386312345678901e+20 as 538631234567890075648), which is no
  // longer the shortest decimal and may not fit the mantissa.
  char buffer[64];
  const auto [end, error] =
      std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::scientific);
  if (error != std::errc()) return std::nullopt;
  return parse(std::string_view(buffer, static_cast<std::size_t>(end - buffer)));
}

Quantity Quantity::from_int(std::int64_t value) { return Quantity(value, 0); }

Quantity Quantity::from_milli(std::int64_t milli) {
  return Quantity(milli, static_cast<std::int32_t>(kMilliExponent));
}

std::string Quantity::to_string() const {
  if (mantissa_ == 0) return "0";
  std::string out = mantissa_ < 0 ? "-" : "";
  out += std::to_string(magnitude_of(mantissa_));
  // Lower the exponent to a multiple of 3 (a suffix) by moving zeros into the mantissa; written
  // as text, so a mantissa near the int64 limit cannot overflow.
  std::int32_t exponent = exponent_;
  const int zeros_to_suffix = ((exponent % 3) + 3) % 3;
  out.append(static_cast<std::size_t>(zeros_to_suffix), '0');
  exponent -= zeros_to_suffix;
  if (exponent > 18) {
    // Beyond E there is no suffix; Kubernetes then writes the exponent form ("15e21").
    return out + "e" + std::to_string(exponent);
  }
  out += decimal_si_suffix(exponent);
  return out;
}

std::optional<Quantity> Quantity::add(const Quantity& a, const Quantity& b) {
  // Zero has exponent 0: aligning a large value down to it could overflow although the sum fits.
  if (a.mantissa_ == 0) return b;
  if (b.mantissa_ == 0) return a;
  // Align both to the smaller exponent, then add; any overflow means the exact sum does not fit.
  const Quantity& fine = a.exponent_ <= b.exponent_ ? a : b;
  const Quantity& coarse = a.exponent_ <= b.exponent_ ? b : a;
  std::int64_t scaled = coarse.mantissa_;
  for (std::int32_t e = coarse.exponent_; e > fine.exponent_; --e) {
    if (__builtin_mul_overflow(scaled, 10, &scaled)) return std::nullopt;
  }
  std::int64_t sum = 0;
  if (__builtin_add_overflow(scaled, fine.mantissa_, &sum)) return std::nullopt;
  return Quantity(sum, fine.exponent_);
}

double Quantity::to_double() const {
  // "<mantissa>e<exponent>" through from_chars gives the correctly rounded double.
  const std::string text = std::to_string(mantissa_) + "e" + std::to_string(exponent_);
  double value = 0.0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error == std::errc::result_out_of_range) {
    // Only overflow is possible: the smallest non-zero magnitude is 1m.
    return mantissa_ < 0 ? -std::numeric_limits<double>::infinity()
                         : std::numeric_limits<double>::infinity();
  }
  (void)end;
  return value;
}

std::optional<std::int64_t> Quantity::milli() const {
  std::int64_t value = mantissa_;
  for (std::int32_t e = exponent_; e > static_cast<std::int32_t>(kMilliExponent); --e) {
    if (__builtin_mul_overflow(value, 10, &value)) return std::nullopt;
  }
  return value;
}

bool operator==(const Quantity& a, const Quantity& b) {
  return a.mantissa_ == b.mantissa_ && a.exponent_ == b.exponent_;
}

}  // namespace sma::api
