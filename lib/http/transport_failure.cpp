#include "lib/http/transport_failure.h"

#include <cerrno>

namespace sma::http {
namespace {

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

// cpprestsdk keeps only the number of an Asio error and reads it as errno. For socket calls that
// is right, except Asio's "end of file" (misc category, 2), which then reads as ENOENT.
std::string describe_code(const std::error_code& code) {
  if (!code) return {};
  if (code.value() == ENOENT) return "the server closed the connection";
  return code.message();
}

}  // namespace

TransportFailure classify_transport_failure(const web::http::http_exception& error,
                                            std::string_view tls_verification_failure) {
  const std::string_view message = error.what();
  const std::error_code code = error.error_code();
  const bool via_proxy = contains(message, "proxy");
  const std::string peer = via_proxy ? "the proxy" : "the server";

  if (code.value() == ETIMEDOUT) return {FetchError::Kind::Timeout, "no answer in time"};
  if (contains(message, "resolving") || contains(message, "Failed to resolve")) {
    return {FetchError::Kind::Connect, "cannot resolve the host name of " + peer};
  }
  if (contains(message, "Failed to connect")) {
    // cpprestsdk reports a refused connection as "host unreachable".
    const std::string reason = code.value() == EHOSTUNREACH
                                   ? "connection refused or host unreachable"
                                   : describe_code(code);
    return {FetchError::Kind::Connect, "cannot connect to " + peer + ": " + reason};
  }
  if (contains(message, "SSL handshake")) {
    std::string cause = "TLS handshake with " + peer + " failed";
    if (!tls_verification_failure.empty()) cause += ": " + std::string(tls_verification_failure);
    return {FetchError::Kind::Protocol, cause};
  }
  if (contains(message, "response from proxy")) {
    return {FetchError::Kind::Protocol,
            "the proxy refused to open a tunnel (" + std::string(message) + ")"};
  }
  std::string cause(message);
  if (const std::string detail = describe_code(code); !detail.empty()) cause += ": " + detail;
  return {FetchError::Kind::Protocol, cause};
}

}  // namespace sma::http
