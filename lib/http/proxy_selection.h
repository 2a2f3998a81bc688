// Which proxy carries a request. Reads HTTPS_PROXY / HTTP_PROXY / NO_PROXY the way Go's
// net/http does (upper case first, then lower case), since operators configure Kubernetes
// workloads with Go's rules in mind.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "lib/http/request_target.h"

namespace sma::http {

struct FetcherOptions;

// A proxy as cpprestsdk wants it: an http:// address with an explicit port, and the user-info
// split off so that it never appears in messages.
struct ProxyEndpoint {
  std::string address;  // "http://proxy.example:3128"
  std::string username;
  std::string password;
};

class ProxySelection {
 public:
  // FetcherOptions::proxy_url (with its no_proxy) when set; otherwise the environment.
  static ProxySelection from_options(const FetcherOptions& options);
  static ProxySelection from_environment();

  // The proxy for `target`, or nullopt to connect directly. Throws FetchError(Protocol) when the
  // configured proxy is of a kind cpprestsdk cannot use (TLS to the proxy, SOCKS).
  std::optional<ProxyEndpoint> proxy_for(const RequestTarget& target) const;

 private:
  std::string http_proxy_;   // for http:// targets
  std::string https_proxy_;  // for https:// targets
  std::string no_proxy_;
};

// NO_PROXY matching: comma-separated entries; "*" matches every host; "example.com" matches it
// and its subdomains; ".example.com" and "*.example.com" only its subdomains; IP addresses match
// exactly and CIDR blocks ("10.0.0.0/8") match the addresses inside. Ports in entries are
// ignored. Loopback gets no special treatment: it is bypassed only when listed.
bool no_proxy_matches(std::string_view no_proxy, std::string_view host);

// Parses "http://user:pass@host:port", "host:port" or "host" into an endpoint (port 80 when
// omitted). Throws FetchError(Protocol) for other schemes.
ProxyEndpoint parse_proxy_url(std::string_view proxy_url);

}  // namespace sma::http
