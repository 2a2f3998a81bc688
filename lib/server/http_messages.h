// Conversions between Beast's HTTP messages and the transport-neutral HttpRequest/HttpResponse,
// and the Kubernetes Status errors the transport answers on its own.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <memory>
#include <string>
#include <string_view>

#include "lib/server/https_server.h"

namespace sma::server {

using WireRequest = boost::beast::http::request<boost::beast::http::string_body>;
using WireResponse = boost::beast::http::response<boost::beast::http::string_body>;

HttpRequest to_http_request(WireRequest&& request, std::string remote_address,
                            std::shared_ptr<const PeerCertificates> peer);

// What framing a response needs from the request it answers.
struct ResponseFraming {
  unsigned http_version = 11;  // 10 or 11
  bool keep_alive = false;
  bool head = false;  // send Content-Length but no body
};

// Frames a handler's response for the wire. Framing is the transport's: Content-Length,
// Transfer-Encoding and Connection from the handler's extra headers are dropped, as are headers
// that could not be sent safely. A status outside 200-599 is a handler bug and becomes 500.
// Content-Length is sent on every response except 204 and 304, which carry no body.
WireResponse to_wire_response(HttpResponse&& response, const ResponseFraming& framing);

// A `kind: Status` failure body, as the Kubernetes API returns errors.
HttpResponse status_error(int code, std::string_view reason, std::string_view message);

}  // namespace sma::server
