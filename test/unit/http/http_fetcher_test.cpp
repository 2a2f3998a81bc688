#include "lib/http/http_fetcher.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <filesystem>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "test/unit/http/loopback_http_server.h"
#include "test/unit/http/scoped_environment.h"
#include "test/unit/http/test_certificates.h"

using namespace std::chrono_literals;
using sma::http::FetcherOptions;
using sma::http::FetchError;
using sma::http::HttpFetcher;
using sma::http::OutgoingRequest;
using sma::http::testing::http_response;
using sma::http::testing::LoopbackHttpServer;
using sma::http::testing::ReceivedRequest;
using sma::http::testing::ScopedEnvironment;
using sma::http::testing::ServerConnection;
using sma::http::testing::ServerTls;
using sma::http::testing::test_certificates;

namespace {

using Clock = std::chrono::steady_clock;

FetcherOptions quick_options() {
  FetcherOptions options;
  options.timeout = 1500ms;
  return options;
}

OutgoingRequest get(std::string url) {
  OutgoingRequest request;
  request.url = std::move(url);
  return request;
}

// Runs `fetch` and returns the FetchError it throws (failing the test when it does not).
FetchError fetch_error(HttpFetcher& fetcher, const OutgoingRequest& request) {
  try {
    fetcher.fetch(request);
  } catch (const FetchError& error) {
    return error;
  }
  FAIL("fetch succeeded where it should have failed");
  throw std::logic_error("unreachable");
}

// A port nothing listens on: bound once to learn a free number, then released.
int refused_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

void answer_ok(const ReceivedRequest&, ServerConnection& connection) {
  connection.write(http_response(200, R"({"ok":true})"));
}

// Streams `total` bytes of body in 64 KiB pieces, chunked or with Content-Length, until the
// client stops reading.
sma::http::testing::Responder stream_body(std::size_t total, bool chunked) {
  return [total, chunked](const ReceivedRequest&, ServerConnection& connection) {
    std::string head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n";
    head += chunked ? "Transfer-Encoding: chunked\r\n"
                    : "Content-Length: " + std::to_string(total) + "\r\n";
    if (!connection.write(head + "\r\n")) return;
    const std::string piece(64 * 1024, 'x');
    char size_line[32];
    std::snprintf(size_line, sizeof size_line, "%zx\r\n", piece.size());
    for (std::size_t sent = 0; sent < total; sent += piece.size()) {
      const bool ok =
          chunked ? connection.write(size_line + piece + "\r\n") : connection.write(piece);
      if (!ok) return;
    }
    if (chunked) connection.write("0\r\n\r\n");
  };
}

}  // namespace

TEST_CASE("GET sends the path, query and headers and returns the answer", "[fetcher]") {
  ScopedEnvironment environment;
  environment.clear_proxies();
  LoopbackHttpServer server([](const ReceivedRequest&, ServerConnection& connection) {
    connection.write(http_response(200, R"({"items":[]})", "application/json; charset=utf-8"));
  });
  HttpFetcher fetcher(quick_options());
  OutgoingRequest request = get(server.url("/api/v1/pods?labelSelector=app%3Dkuard&limit=500"));
  request.headers = {{"Authorization", "Bearer t0ken"}, {"Accept", "application/json"}};

  const auto result = fetcher.fetch(request);

  CHECK(result.status == 200);
  CHECK(result.body == R"({"items":[]})");
  CHECK(result.content_type == "application/json; charset=utf-8");
  const auto received = server.requests();
  REQUIRE(received.size() == 1);
  CHECK(received[0].method == "GET");
  CHECK(received[0].target == "/api/v1/pods?labelSelector=app%3Dkuard&limit=500");
  CHECK(received[0].header("Authorization") == "Bearer t0ken");
  CHECK(received[0].header("Accept") == "application/json");
  CHECK(received[0].header("Host") == "127.0.0.1:" + std::to_string(server.port()));
}

TEST_CASE("POST sends the body with its content type", "[fetcher]") {
  ScopedEnvironment environment;
  environment.clear_proxies();
  LoopbackHttpServer server(answer_ok);
  HttpFetcher fetcher(quick_options());
  OutgoingRequest request = get(server.url("/prometheus/api/v1/query"));
  request.method = "POST";
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
  request.body = "query=" + sma::http::form_encode("sum(rate(x[5m]))") + "&time=1";

  CHECK(fetcher.fetch(request).status == 200);

  const auto received = server.requests();
  REQUIRE(received.size() == 1);
  CHECK(received[0].method == "POST");
  CHECK(received[0].header("Content-Type") == "application/x-www-form-urlencoded");
  CHECK(received[0].header("Content-Length") == std::to_string(request.body.size()));
  CHECK(received[0].body == "query=sum%28rate%28x%5B5m%5D%29%29&time=1");
}

TEST_CASE("HTTP error statuses and redirects are results, not errors", "[fetcher]") {
  ScopedEnvironment environment;
  environment.clear_proxies();
  LoopbackHttpServer server([](const ReceivedRequest& request, ServerConnection& connection) {
    if (request.target == "/busy") {
      connection.write(http_response(429, R"({"message":"slow down"})", "application/json",
                                     "Retry-After: 2\r\n"));
    } else if (request.target == "/moved") {
      connection.write(http_response(302, "", "", "Location: http://127.0.0.1:1/elsewhere\r\n"));
    } else {
      connection.write(http_response(404, "not here", "text/plain"));
    }
  });
  HttpFetcher fetcher(quick_options());

  const auto busy = fetcher.fetch(get(server.url("/busy")));
  CHECK(busy.status == 429);
  CHECK(busy.retry_after == "2");
  CHECK(busy.body == R"({"message":"slow down"})");
  CHECK(fetcher.fetch(get(server.url("/missing"))).status == 404);
  // Following it would send the Authorization header to wherever Location points.
  CHECK(fetcher.fetch(get(server.url("/moved"))).status == 302);
  CHECK(server.requests().size() == 3);
}

TEST_CASE("a server that does not answer in time gives Timeout", "[fetcher]") {
  ScopedEnvironment environment;
  environment.clear_proxies();
  LoopbackHttpServer server(
      [](const ReceivedRequest&, ServerConnection& connection) { connection.pause(5s); });
  FetcherOptions options;
  options.timeout = 300ms;
  HttpFetcher fetcher(options);

  const auto started = Clock::now();
  const FetchError error = fetch_error(fetcher, get(server.url("/slow")));
  const auto took = Clock::now() - started;

  CHECK(error.kind() == FetchError::Kind::Timeout);
  CHECK(took >= 290ms);
  CHECK(took < 1000ms);
  CHECK(std::string(error.what()).find("/slow") != std::string::npos);
}

TEST_CASE("the timeout covers the whole request, not each read", "[fetcher]") {
  ScopedEnvironment environment;
  environment.clear_proxies();
  // One byte every 50 ms keeps every single read well inside the timeout.
  LoopbackHttpServer server([](const ReceivedRequest&, ServerConnection& connection) {
    if (!connection.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\nConnection: close\r\n\r\n")) {
      return;
    }
    for (int i = 0; i < 100; ++i) {
      if (!connection.write("x")) return;
      connection.pause(50ms);
    }
  });
  FetcherOptions options;
  options.timeout = 400ms;
  HttpFetcher fetcher(options);

  const auto started = Clock::now();
  CHECK(fetch_error(fetcher, get(server.url("/trickle"))).kind() == FetchError::Kind::Timeout);
  // Per-read timeouts would let the trickle run its 5 s; the margin over 400 ms is for loaded
  // sanitizer runs.
  CHECK(Clock::now() - started < 2500ms);
}

TEST_CASE("a refused connection gives Connect, naming the URL without its query or headers",
          "[fetcher]") {
  ScopedEnvironment environment;
  environment.clear_proxies();
  HttpFetcher fetcher(quick_options());
  const int port = refused_port();
  OutgoingRequest request =
      get("http://127.0.0.1:" + std::to_string(port) + "/api/v1/pods?labelSelector=secret-ish");
  request.headers = {{"Authorization", "Bearer super-secret-token"}};

  const FetchError error = fetch_error(fetcher, request);

  CHECK(error.kind() == FetchError::Kind::Connect);
  const std::string message = error.what();
  CHECK(message.find("http://127.0.0.1:" + std::to_string(port) + "/api/v1/pods") !=
        std::string::npos);
  CHECK(message.find("labelSelector") == std::string::npos);
  CHECK(message.find("super-secret-token") == std::string::npos);
}

TEST_CASE("a connection closed before the answer gives Protocol", "[fetcher]") {
  ScopedEnvironment environment;
  environment.clear_proxies();
  LoopbackHttpServer server([](const ReceivedRequest&, ServerConnection&) {});
  HttpFetcher fetcher(quick_options());

  CHECK(fetch_error(fetcher, get(server.url("/drop"))).kind() == FetchError::Kind::Protocol);
}

TEST_CASE("an answer over the body limit gives BodyTooLarge without reading the rest",
          "[fetcher]") {
  ScopedEnvironment environment;
  environment.clear_proxies();
  const std::size_t total = 64u * 1024 * 1024;
  const bool chunked = GENERATE(false, true);
  INFO((chunked ? "chunked" : "with Content-Length"));
  LoopbackHttpServer server(stream_body(total, chunked));
  FetcherOptions options = quick_options();
  options.max_body_bytes = 1024 * 1024;
  HttpFetcher fetcher(options);

  const auto started = Clock::now();
  const FetchError error = fetch_error(fetcher, get(server.url("/huge")));
  CHECK(error.kind() == FetchError::Kind::BodyTooLarge);
  CHECK_THAT(error.what(),
             Catch::Contains("larger than 1048576 bytes") && Catch::Contains("/huge"));
  CHECK(Clock::now() - started < 1000ms);
}

TEST_CASE("the body limit stops a server that keeps sending", "[fetcher]") {
  ScopedEnvironment environment;
  environment.clear_proxies();
  const bool chunked = GENERATE(false, true);
  INFO((chunked ? "chunked" : "with Content-Length"));
  const std::size_t total = 256u * 1024 * 1024;
  auto server = std::make_unique<LoopbackHttpServer>(stream_body(total, chunked));
  FetcherOptions options = quick_options();
  options.max_body_bytes = 512 * 1024;
  HttpFetcher fetcher(options);

  CHECK(fetch_error(fetcher, get(server->url("/endless"))).kind() ==
        FetchError::Kind::BodyTooLarge);
  // Wait for the responder to notice the closed connection, then count what it managed to send.
  const auto deadline = Clock::now() + 1500ms;
  while (server->total_bytes_written() == 0 && Clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  CHECK(server->total_bytes_written() > 0);
  CHECK(server->total_bytes_written() < 32u * 1024 * 1024);
}

TEST_CASE("an answer without length or chunking is bounded too", "[fetcher]") {
  ScopedEnvironment environment;
  environment.clear_proxies();
  LoopbackHttpServer server([](const ReceivedRequest&, ServerConnection& connection) {
    if (!connection.write("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")) return;
    const std::string piece(64 * 1024, 'y');
    for (int i = 0; i < 1024 && connection.write(piece); ++i) {
    }
  });
  FetcherOptions options = quick_options();
  options.max_body_bytes = 256 * 1024;
  HttpFetcher fetcher(options);

  CHECK(fetch_error(fetcher, get(server.url("/until-eof"))).kind() ==
        FetchError::Kind::BodyTooLarge);
}

TEST_CASE("an answer of exactly the limit is accepted", "[fetcher]") {
  ScopedEnvironment environment;
  environment.clear_proxies();
  const bool chunked = GENERATE(false, true);
  LoopbackHttpServer server(stream_body(4 * 64 * 1024, chunked));
  FetcherOptions options = quick_options();
  options.max_body_bytes = 4 * 64 * 1024;
  HttpFetcher fetcher(options);

  const auto result = fetcher.fetch(get(server.url("/exact")));
  CHECK(result.body.size() == 4 * 64 * 1024);
}

TEST_CASE("header values with line breaks are refused without quoting them", "[fetcher]") {
  ScopedEnvironment environment;
  environment.clear_proxies();
  LoopbackHttpServer server(answer_ok);
  HttpFetcher fetcher(quick_options());
  OutgoingRequest request = get(server.url("/"));
  request.headers = {{"Authorization", "Bearer abc\r\nX-Injected: 1"}};

  const FetchError error = fetch_error(fetcher, request);
  CHECK(error.kind() == FetchError::Kind::Protocol);
  CHECK(std::string(error.what()).find("abc") == std::string::npos);
  CHECK(server.requests().empty());
}

TEST_CASE("HTTPS trusts the given CA file and checks the host name", "[fetcher][tls]") {
  ScopedEnvironment environment;
  environment.clear_proxies();
  const auto& pki = test_certificates();
  LoopbackHttpServer server(answer_ok, ServerTls{pki.server_cert_file, pki.server_key_file, ""});

  SECTION("with the CA file the request succeeds") {
    FetcherOptions options = quick_options();
    options.ca_file = pki.ca_file;
    HttpFetcher fetcher(options);
    CHECK(fetcher.fetch(get(server.url("/secure"))).status == 200);
  }
  SECTION("without it the server is not trusted") {
    HttpFetcher fetcher(quick_options());
    const FetchError error = fetch_error(fetcher, get(server.url("/secure")));
    CHECK(error.kind() == FetchError::Kind::Protocol);
    CHECK_THAT(error.what(), Catch::Contains("TLS handshake") && Catch::Contains("not trusted"));
  }
  SECTION("insecure_skip_verify accepts it") {
    FetcherOptions options = quick_options();
    options.insecure_skip_verify = true;
    HttpFetcher fetcher(options);
    CHECK(fetcher.fetch(get(server.url("/secure"))).status == 200);
  }
  SECTION("a missing CA file is reported by name") {
    FetcherOptions options = quick_options();
    options.ca_file = pki.directory + "/absent.crt";
    HttpFetcher fetcher(options);
    const FetchError error = fetch_error(fetcher, get(server.url("/secure")));
    CHECK_THAT(error.what(), Catch::Contains("absent.crt"));
  }
}

TEST_CASE("a rewritten CA file reaches new connections; a broken rewrite keeps the CA read before",
          "[fetcher][tls]") {
  ScopedEnvironment environment;
  environment.clear_proxies();
  const auto& pki = test_certificates();
  // The server closes every connection: each fetch sets up TLS anew.
  LoopbackHttpServer server(answer_ok, ServerTls{pki.server_cert_file, pki.server_key_file, ""});
  const std::string ca_file = pki.directory + "/rotating-ca.crt";
  const auto publish = [&ca_file](const std::string& text) {
    std::ofstream(ca_file + ".new", std::ios::trunc) << text;
    std::filesystem::rename(ca_file + ".new", ca_file);
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // past the fetcher's next look
  };
  const auto contents = [](const std::string& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  publish(contents(pki.ca_file));
  FetcherOptions options = quick_options();
  options.ca_file = ca_file;
  HttpFetcher fetcher(options);
  CHECK(fetcher.fetch(get(server.url("/first"))).status == 200);

  publish("not a certificate\n");
  CHECK(fetcher.fetch(get(server.url("/broken-file"))).status == 200);

  publish(contents(pki.wrong_host_cert_file));  // a certificate that did not sign the server's
  const FetchError error = fetch_error(fetcher, get(server.url("/other-ca")));
  CHECK_THAT(error.what(), Catch::Contains("not trusted"));

  publish(contents(pki.ca_file));
  CHECK(fetcher.fetch(get(server.url("/back"))).status == 200);
}

TEST_CASE("a trusted certificate for another host name is refused", "[fetcher][tls]") {
  ScopedEnvironment environment;
  environment.clear_proxies();
  const auto& pki = test_certificates();
  LoopbackHttpServer server(answer_ok,
                            ServerTls{pki.wrong_host_cert_file, pki.wrong_host_key_file, ""});
  FetcherOptions options = quick_options();
  options.ca_file = pki.ca_file;
  HttpFetcher fetcher(options);

  const FetchError error = fetch_error(fetcher, get(server.url("/secure")));
  CHECK(error.kind() == FetchError::Kind::Protocol);
  CHECK_THAT(error.what(), Catch::Contains("does not match the host name"));
}

TEST_CASE("a client certificate is presented for mutual TLS", "[fetcher][tls]") {
  ScopedEnvironment environment;
  environment.clear_proxies();
  const auto& pki = test_certificates();
  LoopbackHttpServer server(answer_ok,
                            ServerTls{pki.server_cert_file, pki.server_key_file, pki.ca_file});
  FetcherOptions options = quick_options();
  options.ca_file = pki.ca_file;

  SECTION("with the certificate the server answers") {
    options.client_cert_file = pki.client_cert_file;
    options.client_key_file = pki.client_key_file;
    HttpFetcher fetcher(options);
    CHECK(fetcher.fetch(get(server.url("/mtls"))).status == 200);
  }
  SECTION("without it the server refuses the connection") {
    HttpFetcher fetcher(options);
    CHECK(fetch_error(fetcher, get(server.url("/mtls"))).kind() == FetchError::Kind::Protocol);
    CHECK(server.requests().empty());
  }
}

TEST_CASE("HTTP_PROXY carries http requests unless NO_PROXY names the host", "[fetcher][proxy]") {
  ScopedEnvironment environment;
  environment.clear_proxies();
  LoopbackHttpServer target(answer_ok);
  LoopbackHttpServer proxy([](const ReceivedRequest&, ServerConnection& connection) {
    connection.write(http_response(200, R"({"via":"proxy"})"));
  });
  const std::string url = target.url("/api/v1/pods?limit=1");

  SECTION("upper-case variable") {
    environment.set("HTTP_PROXY", "http://127.0.0.1:" + std::to_string(proxy.port()));
    HttpFetcher fetcher(quick_options());
    CHECK(fetcher.fetch(get(url)).body == R"({"via":"proxy"})");
    const auto received = proxy.requests();
    REQUIRE(received.size() == 1);
    CHECK(received[0].target == url);  // absolute URI, as proxies expect
    CHECK(target.requests().empty());
  }
  SECTION("lower-case variable without a scheme") {
    environment.set("http_proxy", "127.0.0.1:" + std::to_string(proxy.port()));
    HttpFetcher fetcher(quick_options());
    CHECK(fetcher.fetch(get(url)).body == R"({"via":"proxy"})");
  }
  SECTION("NO_PROXY bypasses it") {
    environment.set("HTTP_PROXY", "http://127.0.0.1:" + std::to_string(proxy.port()));
    environment.set("NO_PROXY", "example.com, 127.0.0.1:9999");
    HttpFetcher fetcher(quick_options());
    CHECK(fetcher.fetch(get(url)).body == R"({"ok":true})");
    CHECK(proxy.requests().empty());
  }
  SECTION("HTTPS_PROXY is not used for http URLs") {
    environment.set("HTTPS_PROXY", "http://127.0.0.1:" + std::to_string(proxy.port()));
    HttpFetcher fetcher(quick_options());
    CHECK(fetcher.fetch(get(url)).body == R"({"ok":true})");
  }
  SECTION("an explicit proxy_url wins over the environment") {
    environment.set("HTTP_PROXY", "http://127.0.0.1:" + std::to_string(refused_port()));
    FetcherOptions options = quick_options();
    options.proxy_url = "http://127.0.0.1:" + std::to_string(proxy.port());
    HttpFetcher fetcher(options);
    CHECK(fetcher.fetch(get(url)).body == R"({"via":"proxy"})");
  }
}

TEST_CASE("HTTPS_PROXY tunnels https requests with CONNECT", "[fetcher][proxy]") {
  ScopedEnvironment environment;
  environment.clear_proxies();
  LoopbackHttpServer proxy([](const ReceivedRequest&, ServerConnection& connection) {
    connection.write("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
  });
  environment.set("HTTPS_PROXY", "http://127.0.0.1:" + std::to_string(proxy.port()));
  HttpFetcher fetcher(quick_options());

  const FetchError error = fetch_error(fetcher, get("https://kubernetes.example:6443/api"));
  CHECK(error.kind() == FetchError::Kind::Protocol);
  const auto received = proxy.requests();
  REQUIRE(received.size() == 1);
  CHECK(received[0].method == "CONNECT");
  CHECK(received[0].target == "kubernetes.example:6443");
}

TEST_CASE("one fetcher serves many threads at once", "[fetcher]") {
  ScopedEnvironment environment;
  environment.clear_proxies();
  LoopbackHttpServer server([](const ReceivedRequest& request, ServerConnection& connection) {
    connection.write(http_response(200, request.target));
  });
  HttpFetcher fetcher(quick_options());
  std::vector<std::string> answers(8 * 5);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5; ++i) {
        const std::string path = "/t" + std::to_string(t) + "/" + std::to_string(i);
        try {
          answers[static_cast<std::size_t>(t * 5 + i)] =
              fetcher.fetch(get(server.url(path))).body == path ? "ok" : "wrong";
        } catch (const std::exception& error) {
          answers[static_cast<std::size_t>(t * 5 + i)] = error.what();
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (const auto& answer : answers) CHECK(answer == "ok");
}

TEST_CASE("URLs that are not absolute http(s) URLs are refused", "[fetcher]") {
  HttpFetcher fetcher(quick_options());
  for (const char* url :
       {"ftp://example.com/", "/relative", "http:///nohost", "http://user:pw@example.com/",
        "http://example.com:99999/", "http://example.com/a b"}) {
    INFO(url);
    const FetchError error = fetch_error(fetcher, get(url));
    CHECK(error.kind() == FetchError::Kind::Protocol);
    CHECK(std::string(error.what()).find("pw") == std::string::npos);
  }
}
