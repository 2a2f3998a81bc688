#include "lib/kube/retry_policy.h"

#include <algorithm>
#include <cctype>

namespace sma::kube {
namespace {

constexpr std::chrono::milliseconds kMaxRetryAfter{5000};
constexpr std::chrono::milliseconds kMaxBackoff{30000};

}  // namespace

bool worth_retrying_status(int status, CallKind kind) {
  if (kind == CallKind::Write) return status == 429 || status == 503;
  return status == 429 || (status >= 500 && status <= 599);
}

bool worth_retrying_failure(http::FetchError::Kind failure, CallKind kind) {
  using Kind = http::FetchError::Kind;
  if (failure == Kind::BodyTooLarge) return false;
  // After a timeout or a broken answer a write may have been applied already.
  if (kind == CallKind::Write) return failure == Kind::Connect;
  return true;
}

std::chrono::milliseconds backoff_delay(int retry, std::chrono::milliseconds initial,
                                        double jitter) {
  const int doublings = std::clamp(retry - 1, 0, 20);
  const std::chrono::milliseconds base =
      std::min<std::chrono::milliseconds>(initial * (1LL << doublings), kMaxBackoff);
  const double factor = 0.5 + std::clamp(jitter, 0.0, 0.999999);
  return std::chrono::milliseconds(
      static_cast<long long>(static_cast<double>(base.count()) * factor));
}

std::optional<std::chrono::milliseconds> retry_after_delay(std::string_view header) {
  while (!header.empty() && std::isspace(static_cast<unsigned char>(header.front()))) {
    header.remove_prefix(1);
  }
  while (!header.empty() && std::isspace(static_cast<unsigned char>(header.back()))) {
    header.remove_suffix(1);
  }
  if (header.empty() || header.size() > 9 ||
      !std::all_of(header.begin(), header.end(), [](unsigned char c) { return std::isdigit(c); })) {
    return std::nullopt;
  }
  const std::chrono::seconds seconds(std::stoll(std::string(header)));
  return std::min<std::chrono::milliseconds>(seconds, kMaxRetryAfter);
}

}  // namespace sma::kube
