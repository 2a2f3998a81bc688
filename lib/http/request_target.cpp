#include "lib/http/request_target.h"

#include <algorithm>
#include <cctype>
#include <string_view>

#include "lib/http/http_fetcher.h"

namespace sma::http {
namespace {

[[noreturn]] void reject(const std::string& why) {
  throw FetchError(FetchError::Kind::Protocol, "invalid request URL: " + why);
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

int parse_port(std::string_view digits) {
  if (digits.empty() || digits.size() > 5 ||
      !std::all_of(digits.begin(), digits.end(), [](unsigned char c) { return std::isdigit(c); })) {
    reject("the port is not a number between 1 and 65535");
  }
  const int port = std::stoi(std::string(digits));
  if (port < 1 || port > 65535) reject("the port is not a number between 1 and 65535");
  return port;
}

// Bytes that may never reach a request line: they would split or end it.
bool has_control_bytes(std::string_view text) {
  return std::any_of(text.begin(), text.end(),
                     [](unsigned char c) { return c < 0x20 || c == 0x7f || c == ' '; });
}

}  // namespace

std::string RequestTarget::origin() const {
  return scheme + "://" + host + ":" + std::to_string(port);
}

std::string RequestTarget::authority_url() const {
  return scheme + "://" + host + (port_given ? ":" + std::to_string(port) : "");
}

std::string RequestTarget::described() const { return origin() + path; }

RequestTarget parse_request_target(const std::string& url) {
  const std::string_view text(url);
  const auto scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) reject("expected an absolute http:// or https:// URL");
  RequestTarget target;
  target.scheme = lower(text.substr(0, scheme_end));
  if (target.scheme != "http" && target.scheme != "https") {
    reject("scheme \"" + target.scheme + "\" is not http or https");
  }

  const std::string_view rest = text.substr(scheme_end + 3);
  const std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  // Credentials in URLs would end up in logs and error messages; tokens go in headers instead.
  if (authority.find('@') != std::string_view::npos) reject("user-info in URLs is not supported");

  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) reject("unterminated IPv6 address");
    target.host = std::string(authority.substr(0, close + 1));
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') reject("unexpected text after the IPv6 address");
      port_text = after.substr(1);
      if (port_text.empty()) reject("empty port");
    }
  } else {
    const auto colon = authority.rfind(':');
    target.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) reject("empty port");
    }
  }
  if (target.host.empty() || target.host == "[]") reject("the URL has no host");
  if (has_control_bytes(target.host)) reject("the host contains blanks or control characters");
  target.port_given = !port_text.empty();
  target.port = target.port_given ? parse_port(port_text) : (target.scheme == "https" ? 443 : 80);

  std::string_view resource = rest.substr(authority.size());
  resource = resource.substr(0, resource.find('#'));
  if (has_control_bytes(resource)) {
    reject("the path or query contains blanks or control characters");
  }
  const std::string_view path = resource.substr(0, resource.find('?'));
  target.path = path.empty() ? "/" : std::string(path);
  target.path_and_query = path.empty() ? "/" + std::string(resource) : std::string(resource);
  return target;
}

}  // namespace sma::http
