// Kubernetes resource.Quantity, limited to what a metrics adapter emits and accepts.
// Values are kept as an exact decimal (mantissa * 10^exponent), rounded up (away from zero)
// to milli precision, because custom-metrics values are written with at most three decimals.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sma::api {

class Quantity {
 public:
  Quantity() = default;

  // Parses the Kubernetes quantity grammar: <signed decimal><suffix>, suffixes n u m "" k M G T P E,
  // Ki Mi Gi Ti Pi Ei, or an exponent e<int>/E<int>. Returns nullopt for anything else, for values
  // that do not fit, and for NaN/Inf. Precision finer than 1m is rounded up (away from zero).
  static std::optional<Quantity> parse(std::string_view text);

  // Converts a sample value from a backend. The shortest decimal that round-trips the double is
  // used, so 0.58 becomes 580m (not 581m). NaN, Inf and values that do not fit give nullopt.
  static std::optional<Quantity> from_double(double value);

  static Quantity from_int(std::int64_t value);
  static Quantity from_milli(std::int64_t milli);

  // Canonical DecimalSI form, as Kubernetes serialises it: no fraction digits, the largest
  // suffix that loses no precision: 0.5 -> "500m", 1500 -> "1500", 12000 -> "12k", 0 -> "0".
  std::string to_string() const;

  double to_double() const;
  // The exact value in thousandths (resource.Quantity's MilliValue(), which the HPA controller
  // computes with); nullopt when it does not fit an int64.
  std::optional<std::int64_t> milli() const;
  bool is_zero() const { return mantissa_ == 0; }

  // Exact sum (summing an object's series); nullopt when it does not fit.
  static std::optional<Quantity> add(const Quantity& a, const Quantity& b);

  // Exact comparison of values (1k == 1000).
  friend bool operator==(const Quantity& a, const Quantity& b);

 private:
  Quantity(std::int64_t mantissa, std::int32_t exponent);
  std::int64_t mantissa_ = 0;  // normalised: no trailing decimal zeros unless zero
  std::int32_t exponent_ = 0;  // >= -3 always
};

}  // namespace sma::api
