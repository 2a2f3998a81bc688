// RFC 3339 timestamps: UTC with whole seconds out (as metav1.Time marshals), any offset and
// fraction in.
#include "lib/api/timestamp.h"

#include <cstdio>
#include <cstdint>

namespace sma::api {

namespace {

using std::chrono::days;
using std::chrono::nanoseconds;
using std::chrono::seconds;

// Reads exactly `count` decimal digits at `pos`.
std::optional<int> read_digits(std::string_view text, std::size_t pos, std::size_t count) {
  if (pos + count > text.size()) return std::nullopt;
  int value = 0;
  for (std::size_t i = pos; i < pos + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

bool has_char(std::string_view text, std::size_t pos, char expected) {
  return pos < text.size() && text[pos] == expected;
}

// Offset of local time from UTC, from "Z" or "+hh:mm" / "-hh:mm" that must end the text.
std::optional<seconds> parse_utc_offset(std::string_view zone) {
  // RFC 3339 section 5.6 allows a lowercase "z".
  if (zone == "Z" || zone == "z") return seconds{0};
  if (zone.size() != 6 || (zone[0] != '+' && zone[0] != '-') || zone[3] != ':') return std::nullopt;
  const auto hours = read_digits(zone, 1, 2);
  const auto minutes = read_digits(zone, 4, 2);
  if (!hours || !minutes || *hours > 23 || *minutes > 59) return std::nullopt;
  const seconds offset = std::chrono::hours{*hours} + std::chrono::minutes{*minutes};
  return zone[0] == '-' ? -offset : offset;
}

}  // namespace

std::string format_rfc3339(Clock::time_point t) {
  // floor, not a cast: a time before 1970 must not round up into the next second.
  const auto whole_seconds = std::chrono::floor<seconds>(t);
  const auto day = std::chrono::floor<days>(whole_seconds);
  const std::chrono::year_month_day date{day};
  const std::chrono::hh_mm_ss time_of_day{whole_seconds - day};
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                static_cast<int>(time_of_day.hours().count()),
                static_cast<int>(time_of_day.minutes().count()),
                static_cast<int>(time_of_day.seconds().count()));
  return buffer;
}

std::optional<Clock::time_point> parse_rfc3339(std::string_view text) {
  // Fixed part: YYYY-MM-DDTHH:MM:SS (19 characters).
  const auto year = read_digits(text, 0, 4);
  const auto month = read_digits(text, 5, 2);
  const auto day = read_digits(text, 8, 2);
  const auto hour = read_digits(text, 11, 2);
  const auto minute = read_digits(text, 14, 2);
  const auto second = read_digits(text, 17, 2);
  const bool separators_ok = has_char(text, 4, '-') && has_char(text, 7, '-') &&
                             (has_char(text, 10, 'T') || has_char(text, 10, 't')) &&
                             has_char(text, 13, ':') && has_char(text, 16, ':');
  if (!year || !month || !day || !hour || !minute || !second || !separators_ok) return std::nullopt;
  // A leap second (:60) is refused, as Go's time.Parse does: system_clock cannot represent it.
  if (*hour > 23 || *minute > 59 || *second > 59) return std::nullopt;
  const std::chrono::year_month_day date{std::chrono::year{*year},
                                         std::chrono::month{static_cast<unsigned>(*month)},
                                         std::chrono::day{static_cast<unsigned>(*day)}};
  if (!date.ok()) return std::nullopt;

  std::size_t pos = 19;
  nanoseconds fraction{0};
  if (has_char(text, pos, '.')) {
    ++pos;
    const std::size_t start = pos;
    std::int64_t scale = 100'000'000;  // value of the first fraction digit in nanoseconds
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      fraction += nanoseconds{(text[pos] - '0') * scale};  // digits past nanoseconds add 0
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;
  }
  const auto offset = parse_utc_offset(text.substr(pos));
  if (!offset) return std::nullopt;

  const seconds local = std::chrono::sys_days{date}.time_since_epoch() +
                        std::chrono::hours{*hour} + std::chrono::minutes{*minute} +
                        seconds{*second};
  const seconds utc = local - *offset;
  // The clock's duration may be nanoseconds (about +-292 years around 1970): stay inside it.
  constexpr auto kEarliest = std::chrono::ceil<seconds>(Clock::time_point::min().time_since_epoch());
  constexpr auto kLatest = std::chrono::floor<seconds>(Clock::time_point::max().time_since_epoch());
  if (utc < kEarliest || utc >= kLatest) return std::nullopt;
  return Clock::time_point{std::chrono::duration_cast<Clock::duration>(utc) +
                           std::chrono::duration_cast<Clock::duration>(fraction)};
}

}  // namespace sma::api
