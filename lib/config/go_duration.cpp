#include "lib/config/go_duration.h"

#include <array>
#include <cstdint>
#include <limits>

namespace sma::config {
namespace {

struct Unit {
  std::string_view name;
  std::int64_t nanos;
};

// Longest names first so "ms" is not read as "m" followed by "s".
constexpr std::array kUnits = {
    Unit{"ns", 1}, Unit{"us", 1000}, Unit{"\xC2\xB5s", 1000}, Unit{"ms", 1000000},
    Unit{"s", 1000000000LL}, Unit{"m", 60LL * 1000000000LL}, Unit{"h", 3600LL * 1000000000LL},
};

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

std::optional<std::chrono::nanoseconds> parse_go_duration(std::string_view text) {
  if (text == "0") return std::chrono::nanoseconds{0};
  if (text.empty()) return std::nullopt;
  // Sum in long double, then check the range: exact for every realistic configuration value.
  long double total = 0;
  while (!text.empty()) {
    std::size_t i = 0;
    long double whole = 0;
    bool digits = false;
    while (i < text.size() && is_digit(text[i])) {
      whole = whole * 10 + (text[i++] - '0');
      digits = true;
    }
    long double fraction = 0, scale = 1;
    if (i < text.size() && text[i] == '.') {
      ++i;
      while (i < text.size() && is_digit(text[i])) {
        scale /= 10;
        fraction += (text[i++] - '0') * scale;
        digits = true;
      }
    }
    if (!digits) return std::nullopt;
    text.remove_prefix(i);
    const Unit* unit = nullptr;
    for (const auto& u : kUnits) {
      if (text.substr(0, u.name.size()) == u.name && (unit == nullptr || u.name.size() > unit->name.size())) unit = &u;
    }
    if (unit == nullptr) return std::nullopt;  // Go requires a unit on every non-zero number
    text.remove_prefix(unit->name.size());
    total += (whole + fraction) * unit->nanos;
    if (total > static_cast<long double>(std::numeric_limits<std::int64_t>::max())) return std::nullopt;
  }
  return std::chrono::nanoseconds{static_cast<std::int64_t>(total + 0.5L)};
}

std::string format_go_duration(std::chrono::nanoseconds d) {
  std::int64_t ns = d.count();
  if (ns == 0) return "0s";
  std::string sign = ns < 0 ? "-" : "";
  if (ns < 0) ns = -ns;
  if (ns < 1000000000LL) {
    if (ns % 1000000 == 0) return sign + std::to_string(ns / 1000000) + "ms";
    if (ns % 1000 == 0) return sign + std::to_string(ns / 1000) + "us";
    return sign + std::to_string(ns) + "ns";
  }
  std::string out = sign;
  std::int64_t hours = ns / (3600LL * 1000000000LL);
  ns -= hours * 3600LL * 1000000000LL;
  std::int64_t minutes = ns / (60LL * 1000000000LL);
  ns -= minutes * 60LL * 1000000000LL;
  if (hours) out += std::to_string(hours) + "h";
  if (hours || minutes) out += std::to_string(minutes) + "m";
  std::int64_t seconds = ns / 1000000000LL;
  std::int64_t rest = ns % 1000000000LL;
  out += std::to_string(seconds);
  if (rest) {
    std::string frac = std::to_string(rest);
    frac.insert(0, 9 - frac.size(), '0');
    while (frac.back() == '0') frac.pop_back();
    out += "." + frac;
  }
  return out + "s";
}

}  // namespace sma::config
