#include "lib/apiserver/openapi_endpoints.h"

#include <openssl/evp.h>

#include <ctime>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "lib/api/api_json.h"
#include "lib/api/openapi_document.h"
#include "lib/api/openapi_operations.h"

#ifndef SMA_VERSION
#define SMA_VERSION "unknown"
#endif

namespace sma::apiserver {
namespace {

using server::HttpRequest;
using server::HttpResponse;

// kube-openapi's media subtypes of its protobuf encodings (the "@" spelling is the deprecated one).
constexpr std::string_view kV2Protobuf[] = {"com.github.proto-openapi.spec.v2@v1.0+protobuf",
                                            "com.github.proto-openapi.spec.v2.v1.0+protobuf"};
constexpr std::string_view kV3Protobuf[] = {"com.github.proto-openapi.spec.v3@v1.0+protobuf",
                                            "com.github.proto-openapi.spec.v3.v1.0+protobuf"};

struct ServedDocument {
  std::string body;
  std::string hash;  // uppercase hex SHA-512 of body
  std::string etag;  // the hash in double quotes
};

ServedDocument served(std::string body) {
  std::string hash = openapi_hash(body);
  std::string etag = "\"" + hash + "\"";
  return {std::move(body), std::move(hash), std::move(etag)};
}

struct Documents {
  ServedDocument v2;
  ServedDocument v3_discovery;
  std::map<std::string, ServedDocument, std::less<>> v3;
};

const Documents& documents() {
  static const Documents built = [] {
    Documents d;
    d.v2 = served(api::write_openapi_v2(SMA_VERSION));
    std::vector<std::pair<std::string, std::string>> hashes;
    for (const auto& path : api::openapi_v3_documents()) {
      ServedDocument document = served(api::write_openapi_v3(path, SMA_VERSION));
      hashes.emplace_back(path, document.hash);
      d.v3.emplace(path, std::move(document));
    }
    d.v3_discovery = served(api::write_openapi_v3_discovery(hashes));
    return d;
  }();
  return built;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// As kube-openapi reads Accept: the first clause (any q) whose type is application or * and whose
// subtype is json, one of the protobuf subtypes or * is served; none means 406. An absent Accept
// is */*. q=0 is not special there either.
bool accepts_json_or_protobuf(std::string_view accept, const std::string_view (&protobuf)[2]) {
  accept = trim(accept);
  if (accept.empty()) return true;
  while (!accept.empty()) {
    const auto comma = accept.find(',');
    std::string_view clause = accept.substr(0, comma);
    accept = comma == std::string_view::npos ? std::string_view{} : accept.substr(comma + 1);
    clause = trim(clause.substr(0, clause.find(';')));
    if (clause == "*") return true;
    const auto slash = clause.find('/');
    if (slash == std::string_view::npos) continue;
    const std::string_view type = trim(clause.substr(0, slash));
    const std::string_view subtype = trim(clause.substr(slash + 1));
    if (type != "*" && !equals_ignoring_case(type, "application")) continue;
    if (subtype == "*" || equals_ignoring_case(subtype, "json") || equals_ignoring_case(subtype, protobuf[0]) ||
        equals_ignoring_case(subtype, protobuf[1])) {
      return true;
    }
  }
  return false;
}

// One entity tag at the start of `s` (W/"..." or "..."), as Go's net/http scans it; empty when
// there is none. `rest` gets what follows it.
std::string_view scan_etag(std::string_view s, std::string_view& rest) {
  std::size_t start = s.substr(0, 2) == "W/" ? 2 : 0;
  if (s.size() - start < 2 || s[start] != '"') return {};
  for (std::size_t i = start + 1; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '"') {
      rest = s.substr(i + 1);
      return s.substr(0, i + 1);
    }
    if (!(c == 0x21 || (c >= 0x23 && c <= 0x7e) || c >= 0x80)) return {};
  }
  return {};
}

std::string_view opaque_tag(std::string_view tag) { return tag.substr(0, 2) == "W/" ? tag.substr(2) : tag; }

// If-None-Match holds `etag` (weak comparison) or "*": the client's copy is current. The same
// reading as net/http's ServeContent, which kube-openapi answers with.
bool client_has(std::string_view if_none_match, std::string_view etag) {
  std::string_view s = if_none_match;
  while (true) {
    s = trim(s);
    if (s.empty()) return false;
    if (s.front() == ',') {
      s.remove_prefix(1);
      continue;
    }
    if (s.front() == '*') return true;
    std::string_view rest;
    const std::string_view tag = scan_etag(s, rest);
    if (tag.empty()) return false;
    if (opaque_tag(tag) == opaque_tag(etag)) return true;
    s = rest;
  }
}

HttpResponse not_acceptable() {
  HttpResponse response;
  response.status = 406;
  response.body = api::write_status(
      {406, "NotAcceptable", "the OpenAPI documents are served as application/json: accept application/json or */*"});
  return response;
}

// The document itself, or 304 when the client's copy is current. Headers already on `response`
// (Vary, Cache-Control) are kept on both.
HttpResponse serve(const HttpRequest& request, const ServedDocument& document, HttpResponse response) {
  response.headers.emplace_back("ETag", document.etag);
  if (client_has(request.header("If-None-Match"), document.etag)) {
    response.status = 304;
    response.content_type.clear();
    response.body.clear();
    return response;
  }
  response.status = 200;
  response.content_type = "application/json";
  response.body = document.body;
  return response;
}

// An HTTP-date a year from now, as handler3's Expires (IMF-fixdate, GMT).
std::string a_year_from_now() {
  std::time_t now = std::time(nullptr);
  std::tm parts{};
  gmtime_r(&now, &parts);
  parts.tm_year += 1;
  std::time_t later = timegm(&parts);  // normalises 29 February to 1 March, as Go's AddDate does
  gmtime_r(&later, &parts);
  char text[64];
  std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &parts);
  return text;
}

}  // namespace

std::string openapi_hash(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha512(), nullptr) != 1) {
    throw std::runtime_error("SHA-512 failed");
  }
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string hex;
  hex.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 0xf];
  }
  return hex;
}

HttpResponse openapi_v2_response(const HttpRequest& request) {
  HttpResponse response;
  response.headers.emplace_back("Vary", "Accept");
  if (!accepts_json_or_protobuf(request.header("Accept"), kV2Protobuf)) {
    HttpResponse refused = not_acceptable();
    refused.headers = std::move(response.headers);
    return refused;
  }
  return serve(request, documents().v2, std::move(response));
}

HttpResponse openapi_v3_discovery_response(const HttpRequest& request) {
  return serve(request, documents().v3_discovery, HttpResponse{});
}

HttpResponse openapi_v3_response(const HttpRequest& request, std::string_view document, std::string_view hash) {
  const auto& all = documents().v3;
  auto it = all.find(document);
  if (it == all.end()) {
    HttpResponse missing;
    missing.status = 404;
    missing.body = api::write_status({404, "NotFound", "no OpenAPI v3 document for " + std::string(document)});
    return missing;
  }
  const ServedDocument& served_document = it->second;
  HttpResponse response;
  response.headers.emplace_back("Vary", "Accept");
  if (!accepts_json_or_protobuf(request.header("Accept"), kV3Protobuf)) {
    HttpResponse refused = not_acceptable();
    refused.headers = std::move(response.headers);
    return refused;
  }
  if (!hash.empty()) {
    if (hash != served_document.hash) {
      // A hash from an older discovery document: send the client to the current one.
      std::string location = "/openapi/v3/" + std::string(document) + "?hash=" + served_document.hash;
      response.status = 301;
      response.content_type = "text/plain; charset=utf-8";
      response.body = "Moved Permanently: " + location + "\n";
      response.headers.emplace_back("ETag", served_document.etag);
      response.headers.emplace_back("Location", std::move(location));
      return response;
    }
    response.headers.emplace_back("Cache-Control", "public, immutable");
    response.headers.emplace_back("Expires", a_year_from_now());
  }
  return serve(request, served_document, std::move(response));
}

}  // namespace sma::apiserver
