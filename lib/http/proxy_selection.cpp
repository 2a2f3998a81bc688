#include "lib/http/proxy_selection.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdlib>
#include <cstring>

#include "lib/http/http_fetcher.h"

namespace sma::http {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t");
  return text.substr(first, last - first + 1);
}

std::string env_any(const char* upper, const char* lower_case) {
  for (const char* name : {upper, lower_case}) {
    const char* value = std::getenv(name);
    if (value != nullptr && *value != '\0') return value;
  }
  return {};
}

// "[::1]:80" -> "::1", "host:80" -> "host", "::1" (a bare IPv6 address) stays whole.
std::string strip_port_and_brackets(std::string_view host) {
  if (!host.empty() && host.front() == '[') {
    const auto close = host.find(']');
    return std::string(host.substr(1, close == std::string_view::npos ? host.size() : close - 1));
  }
  const auto colon = host.find(':');
  if (colon != std::string_view::npos && host.find(':', colon + 1) == std::string_view::npos) {
    return std::string(host.substr(0, colon));
  }
  return std::string(host);
}

struct IpAddress {
  int family = 0;  // AF_INET or AF_INET6
  std::array<unsigned char, 16> bytes{};
};

std::optional<IpAddress> parse_ip(const std::string& text) {
  IpAddress address;
  if (inet_pton(AF_INET, text.c_str(), address.bytes.data()) == 1) {
    address.family = AF_INET;
    return address;
  }
  if (inet_pton(AF_INET6, text.c_str(), address.bytes.data()) == 1) {
    address.family = AF_INET6;
    return address;
  }
  return std::nullopt;
}

bool in_cidr_block(const IpAddress& address, std::string_view block) {
  const auto slash = block.find('/');
  const auto network = parse_ip(std::string(block.substr(0, slash)));
  if (!network || network->family != address.family) return false;
  const std::string bits_text(block.substr(slash + 1));
  char* end = nullptr;
  const long bits = std::strtol(bits_text.c_str(), &end, 10);
  const long max_bits = address.family == AF_INET ? 32 : 128;
  if (bits_text.empty() || *end != '\0' || bits < 0 || bits > max_bits) return false;
  for (long bit = 0; bit < bits; ++bit) {
    const auto byte = static_cast<std::size_t>(bit / 8);
    const auto mask = static_cast<unsigned char>(0x80u >> (bit % 8));
    if ((address.bytes[byte] & mask) != (network->bytes[byte] & mask)) return false;
  }
  return true;
}

bool entry_matches(std::string_view raw_entry, const std::string& host,
                   const std::optional<IpAddress>& host_ip) {
  const std::string entry = lower(trim(raw_entry));
  if (entry.empty()) return false;
  if (entry == "*") return true;
  if (entry.find('/') != std::string::npos) return host_ip && in_cidr_block(*host_ip, entry);
  std::string name = strip_port_and_brackets(entry);
  if (host_ip) {
    const auto entry_ip = parse_ip(name);
    return entry_ip && entry_ip->family == host_ip->family && entry_ip->bytes == host_ip->bytes;
  }
  if (name.rfind("*.", 0) == 0) name.erase(0, 1);
  if (name.empty()) return false;
  if (name.front() == '.') {
    return host.size() > name.size() &&
           host.compare(host.size() - name.size(), name.size(), name) == 0;
  }
  const std::string dotted = "." + name;
  return host == name || (host.size() > dotted.size() &&
                          host.compare(host.size() - dotted.size(), dotted.size(), dotted) == 0);
}

std::string percent_decode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() &&
        std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

}  // namespace

bool no_proxy_matches(std::string_view no_proxy, std::string_view host) {
  const std::string bare_host = lower(strip_port_and_brackets(host));
  const auto host_ip = parse_ip(bare_host);
  std::size_t start = 0;
  while (start <= no_proxy.size()) {
    const auto comma = no_proxy.find(',', start);
    const auto entry = no_proxy.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    if (entry_matches(entry, bare_host, host_ip)) return true;
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return false;
}

ProxyEndpoint parse_proxy_url(std::string_view proxy_url) {
  std::string_view text = trim(proxy_url);
  std::string scheme = "http";
  if (const auto separator = text.find("://"); separator != std::string_view::npos) {
    scheme = lower(text.substr(0, separator));
    text.remove_prefix(separator + 3);
  }
  if (scheme != "http") {
    throw FetchError(FetchError::Kind::Protocol,
                     "proxy scheme \"" + scheme + "\" is not supported; use an http:// proxy");
  }
  text = text.substr(0, text.find_first_of("/?#"));
  ProxyEndpoint endpoint;
  if (const auto at = text.rfind('@'); at != std::string_view::npos) {
    const std::string_view user_info = text.substr(0, at);
    const auto colon = user_info.find(':');
    endpoint.username = percent_decode(user_info.substr(0, colon));
    if (colon != std::string_view::npos) {
      endpoint.password = percent_decode(user_info.substr(colon + 1));
    }
    text.remove_prefix(at + 1);
  }
  std::string host_port(text);
  const bool bracketed = !host_port.empty() && host_port.front() == '[';
  const auto close = bracketed ? host_port.find(']') : std::string::npos;
  const auto colon = host_port.rfind(':');
  const bool has_port =
      colon != std::string::npos && (!bracketed || (close != std::string::npos && colon > close));
  if (host_port.empty() || (has_port && colon == 0)) {
    throw FetchError(FetchError::Kind::Protocol, "the proxy URL has no host");
  }
  endpoint.address = "http://" + host_port + (has_port ? "" : ":80");
  return endpoint;
}

ProxySelection ProxySelection::from_environment() {
  ProxySelection selection;
  selection.http_proxy_ = env_any("HTTP_PROXY", "http_proxy");
  selection.https_proxy_ = env_any("HTTPS_PROXY", "https_proxy");
  selection.no_proxy_ = env_any("NO_PROXY", "no_proxy");
  return selection;
}

ProxySelection ProxySelection::from_options(const FetcherOptions& options) {
  if (options.proxy_url.empty()) return from_environment();
  ProxySelection selection;
  selection.http_proxy_ = options.proxy_url;
  selection.https_proxy_ = options.proxy_url;
  selection.no_proxy_ = options.no_proxy;
  return selection;
}

std::optional<ProxyEndpoint> ProxySelection::proxy_for(const RequestTarget& target) const {
  const std::string& proxy = target.scheme == "https" ? https_proxy_ : http_proxy_;
  if (proxy.empty() || no_proxy_matches(no_proxy_, target.host)) return std::nullopt;
  return parse_proxy_url(proxy);
}

}  // namespace sma::http
