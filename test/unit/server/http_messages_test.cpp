// Conversions between Beast messages and HttpRequest/HttpResponse, and the Status error bodies.
#include "lib/server/http_messages.h"

#include <boost/beast/http/field.hpp>
#include <catch2/catch.hpp>

namespace sma::server {
namespace {
namespace http = boost::beast::http;
}  // namespace

TEST_CASE("HttpRequest header lookups ignore case and keep repeats in order", "[server][http]") {
  HttpRequest request;
  request.headers = {{"X-Remote-User", "alice"},
                     {"X-Remote-Group", "devs"},
                     {"x-remote-group", "ops"},
                     {"Accept", "application/json"}};

  CHECK(request.header("x-remote-user") == "alice");
  CHECK(request.header("X-REMOTE-GROUP") == "devs");
  CHECK(request.header("Authorization").empty());
  CHECK(request.header_values("X-Remote-Group") == std::vector<std::string_view>{"devs", "ops"});
  CHECK(request.header_values("X-Missing").empty());
}

TEST_CASE("to_http_request copies method, target, headers and body", "[server][http]") {
  WireRequest wire(http::verb::post, "/apis/x?labelSelector=a%3Db", 11);
  wire.insert("X-Remote-Group", "a");
  wire.insert("X-Remote-Group", "b");
  wire.body() = "payload";
  auto peer = std::make_shared<const PeerCertificates>();

  HttpRequest request = to_http_request(std::move(wire), "127.0.0.1:1234", peer);

  CHECK(request.method == "POST");
  CHECK(request.target == "/apis/x?labelSelector=a%3Db");
  CHECK(request.header_values("x-remote-group") == std::vector<std::string_view>{"a", "b"});
  CHECK(request.body == "payload");
  CHECK(request.remote_address == "127.0.0.1:1234");
  CHECK(request.peer == peer);
}

TEST_CASE("to_wire_response frames the handler's response", "[server][http]") {
  HttpResponse response{201, "application/json", "{}", {{"X-Extra", "1"}, {"X-Extra", "2"}}};

  SECTION("status, content type, length, extra headers") {
    WireResponse wire = to_wire_response(std::move(response), ResponseFraming{11, true, false});
    CHECK(wire.result_int() == 201);
    CHECK(wire[http::field::content_type] == "application/json");
    CHECK(wire[http::field::content_length] == "2");
    CHECK(wire.body() == "{}");
    CHECK(std::distance(wire.equal_range("X-Extra").first, wire.equal_range("X-Extra").second) ==
          2);
    CHECK(wire.keep_alive());
  }
  SECTION("HEAD keeps the length and drops the body") {
    WireResponse wire = to_wire_response(std::move(response), ResponseFraming{11, true, true});
    CHECK(wire[http::field::content_length] == "2");
    CHECK(wire.body().empty());
  }
  SECTION("HTTP/1.0 without keep-alive") {
    WireResponse wire = to_wire_response(std::move(response), ResponseFraming{10, false, false});
    CHECK(wire.version() == 10);
    CHECK_FALSE(wire.keep_alive());
  }
  SECTION("framing headers and unsafe headers from the handler are dropped") {
    response.headers = {{"Content-Length", "999"}, {"Transfer-Encoding", "chunked"},
                        {"Connection", "upgrade"}, {"X-Injected", "a\r\nSet-Cookie: x"},
                        {"Bad Name", "v"},         {"X-Fine", "ok"}};
    WireResponse wire = to_wire_response(std::move(response), ResponseFraming{11, true, false});
    CHECK(wire[http::field::content_length] == "2");
    CHECK(wire.count(http::field::transfer_encoding) == 0);
    CHECK(wire.count("X-Injected") == 0);
    CHECK(wire.count("Bad Name") == 0);
    CHECK(wire["X-Fine"] == "ok");
    CHECK(wire.keep_alive());
  }
  SECTION("a status outside 200-599 becomes 500") {
    response.status = 101;
    WireResponse wire = to_wire_response(std::move(response), ResponseFraming{11, true, false});
    CHECK(wire.result_int() == 500);
    CHECK(wire.body().find("InternalError") != std::string::npos);
  }
  SECTION("204 carries no body and no length") {
    response.status = 204;
    WireResponse wire = to_wire_response(std::move(response), ResponseFraming{11, true, false});
    CHECK(wire.body().empty());
    CHECK(wire.count(http::field::content_length) == 0);
  }
}

TEST_CASE("status_error builds a Kubernetes Status", "[server][http]") {
  HttpResponse response = status_error(413, "RequestEntityTooLarge", "request body too large");
  CHECK(response.status == 413);
  CHECK(response.content_type == "application/json");
  CHECK(response.body ==
        R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
        R"("message":"request body too large","reason":"RequestEntityTooLarge","code":413})");

  CHECK(status_error(400, "BadRequest", "say \"hi\"\n").body.find(R"("message":"say \"hi\"\n")") !=
        std::string::npos);
}

}  // namespace sma::server
