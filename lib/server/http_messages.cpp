#include "lib/server/http_messages.h"

#include <cctype>
#include <cstdio>
#include <string_view>
#include <utility>

namespace sma::server {
namespace {

namespace http = boost::beast::http;

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

bool is_token_char(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// A name that is not a token, or a value with CR, LF or NUL, would corrupt or split the response.
bool is_sendable_header(std::string_view name, std::string_view value) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!is_token_char(c)) return false;
  }
  return value.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

bool is_framing_header(std::string_view name) {
  return equals_ignoring_case(name, "Content-Length") ||
         equals_ignoring_case(name, "Transfer-Encoding") ||
         equals_ignoring_case(name, "Connection");
}

void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(c));
          out += escaped;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

}  // namespace

std::string_view HttpRequest::header(std::string_view name) const {
  for (const auto& [field, value] : headers) {
    if (equals_ignoring_case(field, name)) return value;
  }
  return {};
}

std::vector<std::string_view> HttpRequest::header_values(std::string_view name) const {
  std::vector<std::string_view> values;
  for (const auto& [field, value] : headers) {
    if (equals_ignoring_case(field, name)) values.emplace_back(value);
  }
  return values;
}

HttpRequest to_http_request(WireRequest&& request, std::string remote_address,
                            std::shared_ptr<const PeerCertificates> peer) {
  HttpRequest converted;
  converted.method = std::string(request.method_string());
  converted.target = std::string(request.target());
  for (const auto& field : request) {
    converted.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  converted.body = std::move(request.body());
  converted.remote_address = std::move(remote_address);
  converted.peer = std::move(peer);
  return converted;
}

WireResponse to_wire_response(HttpResponse&& response, const ResponseFraming& framing) {
  if (response.status < 200 || response.status > 599) {
    response = status_error(500, "InternalError", "internal error");
  }
  WireResponse wire;
  wire.version(framing.http_version);
  wire.result(static_cast<unsigned>(response.status));
  for (auto& [name, value] : response.headers) {
    if (is_sendable_header(name, value) && !is_framing_header(name)) wire.insert(name, value);
  }
  if (!response.content_type.empty() && is_sendable_header("Content-Type", response.content_type)) {
    wire.set(http::field::content_type, response.content_type);
  }
  bool bodyless_status = response.status == 204 || response.status == 304;
  if (!bodyless_status) {
    wire.content_length(response.body.size());
    if (!framing.head) wire.body() = std::move(response.body);
  }
  wire.keep_alive(framing.keep_alive);
  return wire;
}

HttpResponse status_error(int code, std::string_view reason, std::string_view message) {
  std::string body =
      R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":)";
  append_json_string(body, message);
  body += R"(,"reason":)";
  append_json_string(body, reason);
  body += R"(,"code":)";
  body += std::to_string(code);
  body += '}';
  return HttpResponse{code, "application/json", std::move(body), {}};
}

}  // namespace sma::server
