// How the OpenAPI documents are answered: ETag and 304 as net/http's ServeContent does for
// kube-openapi, Accept negotiation, and handler3's hash, Cache-Control and redirect.
#include <rapidjson/document.h>

#include <catch2/catch.hpp>
#include <string>

#include "lib/api/openapi_operations.h"
#include "lib/apiserver/openapi_endpoints.h"

using namespace sma;
using server::HttpRequest;
using server::HttpResponse;

namespace {

HttpRequest get(std::string target, std::vector<std::pair<std::string, std::string>> headers = {}) {
  HttpRequest r;
  r.method = "GET";
  r.target = std::move(target);
  r.headers = std::move(headers);
  return r;
}

std::string header(const HttpResponse& response, std::string_view name) {
  for (const auto& [n, v] : response.headers) {
    if (n == name) return v;
  }
  return "";
}

std::string quoted(const std::string& s) { return "\"" + s + "\""; }

rapidjson::Document parse(const std::string& json) {
  rapidjson::Document d;
  d.Parse(json.data(), json.size());
  REQUIRE_FALSE(d.HasParseError());
  return d;
}

const std::string kV3Doc = "apis/custom.metrics.k8s.io/v1beta2";

}  // namespace

TEST_CASE("the OpenAPI hash is SHA-512 in uppercase hex, as kube-openapi computes it", "[openapi]") {
  CHECK(apiserver::openapi_hash("") ==
        "CF83E1357EEFB8BDF1542850D66D8007D620E4050B5715DC83F4A921D36CE9CE"
        "47D0D13C5D85F2B0FF8318D2877EEC2F63B931BD47417A81A538327AF927DA3E");
}

TEST_CASE("/openapi/v2 answers JSON with a strong ETag of its body, and 304 to a current copy", "[openapi]") {
  HttpResponse first = apiserver::openapi_v2_response(get("/openapi/v2", {{"Accept", "application/json"}}));
  CHECK(first.status == 200);
  CHECK(first.content_type == "application/json");
  CHECK(header(first, "Vary") == "Accept");
  const std::string etag = header(first, "ETag");
  CHECK(etag == quoted(apiserver::openapi_hash(first.body)));
  CHECK(std::string(parse(first.body)["swagger"].GetString()) == "2.0");

  // Built once: the same bytes and tag every time.
  CHECK(apiserver::openapi_v2_response(get("/openapi/v2")).body == first.body);

  for (const std::string& if_none_match : {etag, "W/" + etag, "\"other\", " + etag, std::string("*")}) {
    INFO(if_none_match);
    HttpResponse again =
        apiserver::openapi_v2_response(get("/openapi/v2", {{"Accept", "application/json"}, {"If-None-Match", if_none_match}}));
    CHECK(again.status == 304);
    CHECK(again.body.empty());
    CHECK(again.content_type.empty());
    CHECK(header(again, "ETag") == etag);
  }
  for (const std::string& stale : {std::string("\"0123\""), etag.substr(1, etag.size() - 2), std::string("garbage")}) {
    INFO(stale);
    CHECK(apiserver::openapi_v2_response(get("/openapi/v2", {{"If-None-Match", stale}})).status == 200);
  }
}

TEST_CASE("/openapi/v2 negotiates Accept as Kubernetes does: JSON, or 406 when nothing fits", "[openapi]") {
  for (const char* accept : {"application/json", "application/json, */*", "*/*", "application/*", "",
                             "application/com.github.proto-openapi.spec.v2@v1.0+protobuf",
                             "application/com.github.proto-openapi.spec.v2.v1.0+protobuf;q=0.9, text/html",
                             "text/html, APPLICATION/JSON;q=0.5"}) {
    INFO(accept);
    HttpResponse r = apiserver::openapi_v2_response(get("/openapi/v2", {{"Accept", accept}}));
    CHECK(r.status == 200);
    CHECK(r.content_type == "application/json");  // never protobuf: this server writes JSON only
  }
  for (const char* accept : {"text/html", "application/yaml", "application/vnd.kubernetes.protobuf",
                             "application/com.github.proto-openapi.spec.v3.v1.0+protobuf"}) {
    INFO(accept);
    HttpResponse r = apiserver::openapi_v2_response(get("/openapi/v2", {{"Accept", accept}}));
    CHECK(r.status == 406);
    CHECK(std::string(parse(r.body)["reason"].GetString()) == "NotAcceptable");
  }
}

TEST_CASE("/openapi/v3 lists every v3 document with the hash of what is served there", "[openapi]") {
  HttpResponse discovery = apiserver::openapi_v3_discovery_response(get("/openapi/v3"));
  CHECK(discovery.status == 200);
  CHECK(discovery.content_type == "application/json");
  CHECK(header(discovery, "ETag") == quoted(apiserver::openapi_hash(discovery.body)));
  auto doc = parse(discovery.body);
  const auto& paths = doc["paths"];
  CHECK(paths.MemberCount() == api::openapi_v3_documents().size());
  for (const auto& name : api::openapi_v3_documents()) {
    INFO(name);
    REQUIRE(paths.HasMember(name.c_str()));
    const std::string url = paths[name.c_str()]["serverRelativeURL"].GetString();
    HttpResponse served = apiserver::openapi_v3_response(get(url), name, "");
    CHECK(served.status == 200);
    CHECK(url == "/openapi/v3/" + name + "?hash=" + apiserver::openapi_hash(served.body));
    CHECK(header(served, "ETag") == quoted(apiserver::openapi_hash(served.body)));
    CHECK(std::string(parse(served.body)["openapi"].GetString()) == "3.0.0");
  }
  HttpResponse again = apiserver::openapi_v3_discovery_response(
      get("/openapi/v3", {{"If-None-Match", header(discovery, "ETag")}}));
  CHECK(again.status == 304);
  CHECK(again.body.empty());
}

TEST_CASE("a v3 document asked for by its hash is immutable; a stale hash is redirected", "[openapi]") {
  HttpResponse plain = apiserver::openapi_v3_response(get("/openapi/v3/" + kV3Doc), kV3Doc, "");
  REQUIRE(plain.status == 200);
  CHECK(header(plain, "Cache-Control").empty());
  CHECK(header(plain, "Vary") == "Accept");
  const std::string hash = apiserver::openapi_hash(plain.body);

  HttpResponse pinned = apiserver::openapi_v3_response(get("/openapi/v3/" + kV3Doc + "?hash=" + hash), kV3Doc, hash);
  CHECK(pinned.status == 200);
  CHECK(pinned.body == plain.body);
  CHECK(header(pinned, "Cache-Control") == "public, immutable");
  const std::string expires = header(pinned, "Expires");
  CHECK_THAT(expires, Catch::Matches(R"([A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT)"));

  HttpResponse current = apiserver::openapi_v3_response(
      get("/openapi/v3/" + kV3Doc + "?hash=" + hash, {{"If-None-Match", quoted(hash)}}), kV3Doc, hash);
  CHECK(current.status == 304);
  CHECK(header(current, "Cache-Control") == "public, immutable");

  HttpResponse stale = apiserver::openapi_v3_response(get("/openapi/v3/" + kV3Doc + "?hash=OLD"), kV3Doc, "OLD");
  CHECK(stale.status == 301);
  CHECK(header(stale, "Location") == "/openapi/v3/" + kV3Doc + "?hash=" + hash);
  CHECK(header(stale, "Cache-Control").empty());

  CHECK(apiserver::openapi_v3_response(get("/openapi/v3/" + kV3Doc, {{"Accept", "text/html"}}), kV3Doc, "").status ==
        406);
  CHECK(apiserver::openapi_v3_response(
            get("/openapi/v3/" + kV3Doc, {{"Accept", "application/com.github.proto-openapi.spec.v3@v1.0+protobuf"}}),
            kV3Doc, "")
            .status == 200);
  CHECK(apiserver::openapi_v3_response(get("/openapi/v3/apis/apps/v1"), "apis/apps/v1", "").status == 404);
}
