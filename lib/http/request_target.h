// The parts of an absolute http(s) URL the fetcher works with: which connection carries the
// request, what goes on the request line, and how errors name the request.
#pragma once

#include <string>

namespace sma::http {

struct RequestTarget {
  std::string scheme;          // "http" or "https", lower case
  std::string host;            // as written; IPv6 literals keep their brackets
  int port = 0;                // explicit, or the scheme's default
  bool port_given = false;     // the URL names the port (then so does the Host header)
  std::string path;            // "/" when the URL has none
  std::string path_and_query;  // what goes on the request line; the fragment is dropped

  // "https://host:port": requests to one origin share one client and its connection pool.
  std::string origin() const;
  // "https://host[:port]" as written, for the client's base URI and so for the Host header.
  std::string authority_url() const;
  // "https://host:port/path": how errors name a request. The query is left out because it can be
  // long (selectors, PromQL) and is not needed to find the failing server.
  std::string described() const;
};

// Throws FetchError(Protocol) when `url` is not an absolute http or https URL. The message never
// repeats the URL's query or user-info.
RequestTarget parse_request_target(const std::string& url);

}  // namespace sma::http
