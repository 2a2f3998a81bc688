// The HTTPS server end to end over real sockets on 127.0.0.1: HTTP framing, limits, TLS policy,
// client certificates, certificate reloads, timeouts and shutdown.
#include "lib/server/https_server.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/beast/http/verb.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "lib/server/self_signed_cert.h"
#include "tls_test_client.h"

namespace sma::server {
namespace {

using namespace std::chrono_literals;
using testing::ClientRequest;
using testing::ClientTlsSettings;
using testing::make_request;
using testing::TlsTestClient;
namespace http = boost::beast::http;

constexpr const char* kHeaderTooLarge =
    R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
    R"("message":"request header fields too large","reason":"RequestHeaderFieldsTooLarge",)"
    R"("code":431})";

HttpsServerOptions test_options() {
  HttpsServerOptions options;
  options.bind_address = "127.0.0.1";
  options.port = 0;
  options.read_timeout = 2s;
  options.idle_timeout = 5s;
  options.handshake_timeout = 2s;
  options.io_threads = 1;
  options.worker_threads = 2;
  return options;
}

// Echoes the request; a few targets misbehave on purpose.
HttpResponse echo_handler(const HttpRequest& request) {
  if (request.target == "/throw") throw std::runtime_error("handler failed");
  if (request.target == "/peer") {
    std::string chain;
    for (const std::string& pem : request.peer->chain_pem) chain += pem;
    return HttpResponse{200,
                        "text/plain",
                        chain,
                        {{"X-Peer-Count", std::to_string(request.peer->chain_pem.size())}}};
  }
  HttpResponse response;
  response.status = 200;
  response.content_type = "text/plain; charset=utf-8";
  response.body = request.method + " " + request.target + "\n" +
                  "x-test=" + std::string(request.header("x-test")) + "\n" + request.body;
  response.headers = {{"X-Remote-Address", request.remote_address},
                      {"X-Echo-Method", request.method}};
  return response;
}

// Holds a test until something happened on another thread.
class Signal {
 public:
  void raise() {
    std::lock_guard lock(mutex_);
    raised_ = true;
    changed_.notify_all();
  }
  bool wait(std::chrono::milliseconds limit = 2s) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, limit, [this] { return raised_; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool raised_ = false;
};

// "/blocked" announces it started, then waits for the test to release it; the rest echoes.
struct BlockingHandler {
  HttpResponse operator()(const HttpRequest& request) const {
    if (request.target != "/blocked") return echo_handler(request);
    entered->raise();
    release->wait(5s);
    return HttpResponse{200, "text/plain", "released", {}};
  }
  std::shared_ptr<Signal> entered = std::make_shared<Signal>();
  std::shared_ptr<Signal> release = std::make_shared<Signal>();
};

struct RunningServer {
  explicit RunningServer(HttpsServerOptions options = test_options(),
                         RequestHandler handler = echo_handler)
      : server(std::move(options), std::move(handler)) {
    server.start();
  }
  std::uint16_t port() const { return server.port(); }
  HttpsServer server;
};

ClientRequest get(std::string target) { return make_request(http::verb::get, std::move(target)); }

// A directory of its own under the system temp dir, removed afterwards.
struct TempDir {
  TempDir() {
    static std::atomic<int> counter{0};
    path = std::filesystem::temp_directory_path() /
           ("sma-server-test-" + std::to_string(::getpid()) + "-" + std::to_string(++counter));
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
  std::string write(const std::string& name, const std::string& contents) const {
    std::filesystem::path file = path / name;
    std::ofstream(file, std::ios::binary) << contents;
    return file.string();
  }
  std::filesystem::path path;
};

// The subject CN of the certificate the server presented on a client's connection.
std::string served_common_name(TlsTestClient& client) {
  X509* served = SSL_get0_peer_certificate(client.native_handle());
  if (served == nullptr) return "(none)";
  char common_name[64] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(served), NID_commonName, common_name,
                            sizeof common_name);
  return common_name;
}

// The CN a connection opened now is served.
std::string served_common_name(std::uint16_t port) {
  TlsTestClient client(port);
  client.connect();
  return served_common_name(client);
}

// The DER encoding of the certificate a connection opened now is served.
std::string served_certificate_der(std::uint16_t port) {
  TlsTestClient client(port);
  client.connect();
  X509* served = SSL_get0_peer_certificate(client.native_handle());
  if (served == nullptr) return {};
  unsigned char* der = nullptr;
  int size = i2d_X509(served, &der);
  if (size <= 0) return {};
  std::string result(reinterpret_cast<const char*>(der), static_cast<std::size_t>(size));
  OPENSSL_free(der);
  return result;
}

// Polls until `done` holds or `limit` passed.
template <typename Condition>
bool eventually(Condition done, std::chrono::milliseconds limit = 5s) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

// Collects on_certificate_event lines, which arrive on an io thread.
class CertificateEvents {
 public:
  static std::function<void(const std::string&)> recorder(std::shared_ptr<CertificateEvents> to) {
    return [to](const std::string& event) {
      std::lock_guard lock(to->mutex_);
      to->events_.push_back(event);
    };
  }
  std::vector<std::string> all() const {
    std::lock_guard lock(mutex_);
    return events_;
  }
  std::size_t count() const { return all().size(); }
  // How many events from index `from` on contain `text`.
  std::size_t containing(const std::string& text, std::size_t from = 0) const {
    std::vector<std::string> events = all();
    std::size_t found = 0;
    for (std::size_t i = from; i < events.size(); ++i) {
      if (events[i].find(text) != std::string::npos) ++found;
    }
    return found;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> events_;
};

// The layout kubelet gives a Secret volume, and its way of updating one: tls.crt is a symlink to
// ..data/tls.crt, ..data one to a version directory; an update writes a new version directory,
// points a temporary symlink at it and renames that over ..data, so both files change at once.
class SecretVolume {
 public:
  explicit SecretVolume(const TempDir& dir) : root_(dir.path / "secret") {
    std::filesystem::create_directories(root_);
  }
  void publish(const std::string& certificate_pem, const std::string& key_pem) {
    std::string version = "..v" + std::to_string(++versions_);
    std::filesystem::create_directory(root_ / version);
    std::ofstream(root_ / version / "tls.crt", std::ios::binary) << certificate_pem;
    std::ofstream(root_ / version / "tls.key", std::ios::binary) << key_pem;
    std::filesystem::create_directory_symlink(version, root_ / "..data_tmp");
    std::filesystem::rename(root_ / "..data_tmp", root_ / "..data");
    if (versions_ == 1) {
      std::filesystem::create_symlink("..data/tls.crt", root_ / "tls.crt");
      std::filesystem::create_symlink("..data/tls.key", root_ / "tls.key");
    } else {
      std::filesystem::remove_all(root_ / ("..v" + std::to_string(versions_ - 1)));
    }
  }
  std::string cert_file() const { return (root_ / "tls.crt").string(); }
  std::string key_file() const { return (root_ / "tls.key").string(); }

 private:
  std::filesystem::path root_;
  int versions_ = 0;
};

// Replaces a file as editors and most tools do: write a temporary file, rename it over the old.
void replace_file(const std::string& path, const std::string& contents) {
  std::string temporary = path + ".tmp";
  std::ofstream(temporary, std::ios::binary) << contents;
  std::filesystem::rename(temporary, path);
}

std::string start_error(HttpsServerOptions options) {
  HttpsServer server(std::move(options), echo_handler);
  try {
    server.start();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("serves a GET with the handler's status, body and content type", "[server]") {
  RunningServer running;
  REQUIRE(running.port() != 0);
  TlsTestClient client(running.port());
  client.connect();

  ClientRequest request = get("/apis/x?labelSelector=a%3Db");
  request.set("X-Test", "hello");
  auto response = client.round_trip(request);

  CHECK(response.result_int() == 200);
  CHECK(response[http::field::content_type] == "text/plain; charset=utf-8");
  CHECK(response.body() == "GET /apis/x?labelSelector=a%3Db\nx-test=hello\n");
  CHECK(response[http::field::content_length] == std::to_string(response.body().size()));
  CHECK(response["X-Echo-Method"] == "GET");
  CHECK(std::string(response["X-Remote-Address"]).rfind("127.0.0.1:", 0) == 0);
}

TEST_CASE("keeps one connection open across requests", "[server]") {
  RunningServer running;
  TlsTestClient client(running.port());
  client.connect();

  auto first = client.round_trip(get("/one"));
  auto second = client.round_trip(make_request(http::verb::post, "/two", "payload"));

  CHECK(first.body() == "GET /one\nx-test=\n");
  CHECK(second.body() == "POST /two\nx-test=\npayload");
  CHECK(first.keep_alive());
  // Same client port both times: the same TCP connection served both requests.
  CHECK(first["X-Remote-Address"] == second["X-Remote-Address"]);
}

TEST_CASE("answers pipelined requests in order", "[server]") {
  RunningServer running;
  TlsTestClient client(running.port());
  client.connect();

  client.send_raw(
      "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /b HTTP/1.1\r\nHost: x\r\n\r\n");

  CHECK(client.receive().body() == "GET /a\nx-test=\n");
  CHECK(client.receive().body() == "GET /b\nx-test=\n");
}

TEST_CASE("closes after the response when asked to", "[server]") {
  RunningServer running;

  SECTION("Connection: close") {
    TlsTestClient client(running.port());
    client.connect();
    ClientRequest request = get("/bye");
    request.keep_alive(false);
    auto response = client.round_trip(request);
    CHECK(response.result_int() == 200);
    CHECK_FALSE(response.keep_alive());
    CHECK(client.closed_by_server());
  }
  SECTION("HTTP/1.0") {
    TlsTestClient client(running.port());
    client.connect();
    client.send_raw("GET /old HTTP/1.0\r\n\r\n");
    auto response = client.receive();
    CHECK(response.version() == 10);
    CHECK(response.body() == "GET /old\nx-test=\n");
    CHECK(client.closed_by_server());
  }
}

TEST_CASE("HEAD gets Content-Length but no body", "[server]") {
  RunningServer running;
  TlsTestClient client(running.port());
  client.connect();

  auto head = client.round_trip(make_request(http::verb::head, "/h"));
  CHECK(head.result_int() == 200);
  CHECK(head[http::field::content_length] ==
        std::to_string(std::string("HEAD /h\nx-test=\n").size()));
  CHECK(head.body().empty());
  // Framing stayed intact: the next response parses.
  CHECK(client.round_trip(get("/after")).body() == "GET /after\nx-test=\n");
}

TEST_CASE("answers 431 with a Status when the header is too large, then closes", "[server]") {
  HttpsServerOptions options = test_options();
  options.max_header_bytes = 1024;
  RunningServer running(options);
  TlsTestClient client(running.port());
  client.connect();

  ClientRequest request = get("/big-header");
  request.set("X-Padding", std::string(2000, 'a'));
  auto response = client.round_trip(request);

  CHECK(response.result_int() == 431);
  CHECK(response[http::field::content_type] == "application/json");
  CHECK(response.body() == kHeaderTooLarge);
  CHECK_FALSE(response.keep_alive());
  CHECK(client.closed_by_server());
}

TEST_CASE("answers 413 with a Status when the body is too large, then closes", "[server]") {
  HttpsServerOptions options = test_options();
  options.max_body_bytes = 1024;
  RunningServer running(options);

  SECTION("declared by Content-Length") {
    TlsTestClient client(running.port());
    client.connect();
    auto response =
        client.round_trip(make_request(http::verb::post, "/upload", std::string(64 * 1024, 'b')));
    CHECK(response.result_int() == 413);
    CHECK(response.body().find(R"("reason":"RequestEntityTooLarge")") != std::string::npos);
    CHECK(response.body().find(R"("message":"request body too large")") != std::string::npos);
    CHECK(response.body().find(R"("code":413)") != std::string::npos);
    CHECK(client.closed_by_server());
  }
  SECTION("chunked") {
    TlsTestClient client(running.port());
    client.connect();
    client.send_raw(
        "POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n" +
        std::string(0x800, 'c') + "\r\n0\r\n\r\n");
    CHECK(client.receive().result_int() == 413);
    CHECK(client.closed_by_server());
  }
  SECTION("a body within the limit is fine") {
    TlsTestClient client(running.port());
    client.connect();
    auto response =
        client.round_trip(make_request(http::verb::post, "/upload", std::string(1024, 'd')));
    CHECK(response.result_int() == 200);
  }
}

TEST_CASE("answers 400 to malformed HTTP and 414 to an overlong target", "[server]") {
  RunningServer running;

  SECTION("malformed") {
    TlsTestClient client(running.port());
    client.connect();
    client.send_raw("this is not http\r\n\r\n");
    auto response = client.receive();
    CHECK(response.result_int() == 400);
    CHECK(response.body().find(R"("reason":"BadRequest")") != std::string::npos);
    CHECK(client.closed_by_server());
  }
  SECTION("target over 8 KiB") {
    TlsTestClient client(running.port());
    client.connect();
    auto response = client.round_trip(get("/" + std::string(9000, 'x')));
    CHECK(response.result_int() == 414);
    CHECK(response.body().find(R"("reason":"URITooLong")") != std::string::npos);
  }
}

TEST_CASE("a handler that throws yields a 500 and the connection keeps serving", "[server]") {
  RunningServer running;
  TlsTestClient client(running.port());
  client.connect();

  auto failed = client.round_trip(get("/throw"));
  CHECK(failed.result_int() == 500);
  CHECK(failed.body() == R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
                         R"("message":"internal error","reason":"InternalError","code":500})");

  CHECK(client.round_trip(get("/next")).result_int() == 200);
}

TEST_CASE("a slow handler does not hold up other connections", "[server]") {
  BlockingHandler handler;
  RunningServer running(test_options(), handler);  // one io thread, two workers
  testing::ClientResponse blocked;
  std::string failure;
  std::thread blocked_client([&, port = running.port()] {
    try {
      TlsTestClient client(port);
      client.connect();
      blocked = client.round_trip(get("/blocked"));
    } catch (const std::exception& e) {
      failure = e.what();
    }
  });
  REQUIRE(handler.entered->wait());

  TlsTestClient client(running.port());
  client.connect();
  int status = client.round_trip(get("/fast")).result_int();  // while "/blocked" still waits
  handler.release->raise();
  blocked_client.join();

  CHECK(status == 200);
  INFO(failure);
  CHECK(blocked.body() == "released");
}

TEST_CASE("serves concurrent connections on several io threads", "[server]") {
  HttpsServerOptions options = test_options();
  options.io_threads = 3;
  options.worker_threads = 3;
  RunningServer running(options);

  constexpr int kClients = 4;
  constexpr int kRequestsEach = 5;
  std::vector<int> answered(kClients, 0);
  std::vector<std::string> failures(kClients);
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c, port = running.port()] {
      try {
        TlsTestClient client(port);
        client.connect();
        for (int r = 0; r < kRequestsEach; ++r) {
          std::string target = "/c" + std::to_string(c) + "/r" + std::to_string(r);
          if (client.round_trip(get(target)).body() == "GET " + target + "\nx-test=\n") {
            ++answered[c];
          }
        }
      } catch (const std::exception& e) {
        failures[c] = e.what();
      }
    });
  }
  for (std::thread& client : clients) client.join();

  for (int c = 0; c < kClients; ++c) {
    INFO("client " << c << ": " << failures[c]);
    CHECK(answered[c] == kRequestsEach);
  }
}

TEST_CASE("refuses TLS below 1.2 and non-AEAD ciphers", "[server][tls]") {
  RunningServer running;

  SECTION("TLS 1.1") {
    ClientTlsSettings settings;
    settings.allow_legacy = true;
    settings.min_version = TLS1_VERSION;
    settings.max_version = TLS1_1_VERSION;
    TlsTestClient client(running.port(), settings);
    REQUIRE_FALSE(client.connect_tcp());
    auto error = client.handshake();
    INFO(error.message());
    REQUIRE(error);
    // The server's protocol_version alert, not the client refusing to offer TLS 1.1.
    CHECK(ERR_GET_REASON(static_cast<unsigned long>(error.value())) ==
          SSL_R_TLSV1_ALERT_PROTOCOL_VERSION);
  }
  SECTION("TLS 1.2 with a CBC cipher") {
    ClientTlsSettings settings;
    settings.allow_legacy = true;
    settings.max_version = TLS1_2_VERSION;
    settings.tls12_ciphers = "ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA:AES128-SHA:@SECLEVEL=0";
    TlsTestClient client(running.port(), settings);
    REQUIRE_FALSE(client.connect_tcp());
    CHECK(client.handshake());
  }
  SECTION("TLS 1.2") {
    ClientTlsSettings settings;
    settings.max_version = TLS1_2_VERSION;
    TlsTestClient client(running.port(), settings);
    client.connect();
    CHECK(SSL_version(client.native_handle()) == TLS1_2_VERSION);
    CHECK(client.round_trip(get("/tls12")).result_int() == 200);
  }
  SECTION("TLS 1.3") {
    TlsTestClient client(running.port());
    client.connect();
    CHECK(SSL_version(client.native_handle()) == TLS1_3_VERSION);
  }
}

TEST_CASE("hands the client certificate chain to the handler", "[server][tls]") {
  RunningServer running;

  SECTION("with a certificate") {
    ClientTlsSettings settings;
    settings.certificate = generate_self_signed_certificate("front-proxy-client");
    for (int max_version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
      settings.max_version = max_version;
      TlsTestClient client(running.port(), settings);
      client.connect();
      auto response = client.round_trip(get("/peer"));
      CHECK(response["X-Peer-Count"] == "1");
      CHECK(response.body() == settings.certificate->certificate_pem);
      // Shared by every request on the connection.
      CHECK(client.round_trip(get("/peer")).body() == settings.certificate->certificate_pem);
    }
  }
  SECTION("without one") {
    TlsTestClient client(running.port());
    client.connect();
    auto response = client.round_trip(get("/peer"));
    CHECK(response["X-Peer-Count"] == "0");
    CHECK(response.body().empty());
  }
}

TEST_CASE("serves the certificate from the configured files", "[server][tls]") {
  TempDir dir;
  SelfSignedCertificate pair = generate_self_signed_certificate("from-files");
  HttpsServerOptions options = test_options();
  options.cert_file = dir.write("tls.crt", pair.certificate_pem);
  options.key_file = dir.write("tls.key", pair.private_key_pem);
  RunningServer running(options);

  TlsTestClient client(running.port());
  client.connect();
  X509* served = SSL_get0_peer_certificate(client.native_handle());
  REQUIRE(served != nullptr);
  char common_name[64] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(served), NID_commonName, common_name,
                            sizeof common_name);
  CHECK(std::string(common_name) == "from-files");
}

TEST_CASE("start() explains a bad certificate setup in one line", "[server][tls]") {
  TempDir dir;
  SelfSignedCertificate pair = generate_self_signed_certificate("a");
  SelfSignedCertificate other = generate_self_signed_certificate("b");
  std::string cert = dir.write("tls.crt", pair.certificate_pem);
  std::string key = dir.write("tls.key", pair.private_key_pem);
  std::string other_key = dir.write("other.key", other.private_key_pem);
  std::string garbage = dir.write("garbage.pem", "not a certificate\n");
  std::string missing = (dir.path / "missing.crt").string();
  HttpsServerOptions options = test_options();

  auto check_error = [&](const std::string& cert_file, const std::string& key_file,
                         const std::string& must_name) {
    options.cert_file = cert_file;
    options.key_file = key_file;
    std::string error = start_error(options);
    INFO(error);
    CHECK(error.find(must_name) != std::string::npos);
    CHECK(error.find('\n') == std::string::npos);
  };
  check_error(missing, key, missing);
  check_error(cert, "", cert);
  check_error("", key, key);
  check_error(garbage, key, garbage);
  check_error(cert, garbage, garbage);
  check_error(cert, other_key, other_key);
}

TEST_CASE("start() explains a bad listening address", "[server]") {
  RunningServer running;

  HttpsServerOptions taken = test_options();
  taken.port = running.port();
  std::string in_use = start_error(taken);
  INFO(in_use);
  CHECK(in_use.find("127.0.0.1:" + std::to_string(running.port())) != std::string::npos);

  HttpsServerOptions nonsense = test_options();
  nonsense.bind_address = "not-an-address";
  CHECK(start_error(nonsense).find("not-an-address") != std::string::npos);
}

TEST_CASE("stop() is safe when start() never ran or failed", "[server]") {
  HttpsServer never_started(test_options(), echo_handler);
  never_started.stop();
  CHECK(never_started.port() == 0);

  HttpsServerOptions bad = test_options();
  bad.cert_file = "/nonexistent/tls.crt";
  bad.key_file = "/nonexistent/tls.key";
  HttpsServer failed(bad, echo_handler);
  CHECK_THROWS_AS(failed.start(), std::runtime_error);
  failed.stop();
}

TEST_CASE("closes connections that stall", "[server][timeouts]") {
  HttpsServerOptions options = test_options();
  options.handshake_timeout = 200ms;
  options.read_timeout = 200ms;
  options.idle_timeout = 200ms;
  RunningServer running(options);

  SECTION("no handshake") {
    TlsTestClient client(running.port());
    REQUIRE_FALSE(client.connect_tcp());
    std::this_thread::sleep_for(500ms);
    CHECK(client.handshake());
  }
  SECTION("idle between requests") {
    TlsTestClient client(running.port());
    client.connect();
    CHECK(client.round_trip(get("/first")).result_int() == 200);
    auto started = std::chrono::steady_clock::now();
    CHECK(client.closed_by_server(1500ms));
    CHECK(std::chrono::steady_clock::now() - started < 1000ms);
  }
  SECTION("a request that never completes") {
    TlsTestClient client(running.port());
    client.connect();
    client.send_raw("GET /partial HTTP/1.1\r\nHost: x\r\n");
    CHECK(client.closed_by_server(1500ms));
  }
}

TEST_CASE("stop() returns promptly with an idle keep-alive connection open", "[server]") {
  HttpsServerOptions options = test_options();
  options.idle_timeout = 30s;
  RunningServer running(options);
  TlsTestClient client(running.port());
  client.connect();
  CHECK(client.round_trip(get("/warm")).result_int() == 200);

  auto started = std::chrono::steady_clock::now();
  running.server.stop();
  CHECK(std::chrono::steady_clock::now() - started < 500ms);
  CHECK(client.closed_by_server());
}

TEST_CASE("stop() lets a request already with its handler finish", "[server]") {
  BlockingHandler handler;
  RunningServer running(test_options(), handler);
  testing::ClientResponse response;
  std::string failure;
  std::thread blocked_client([&, port = running.port()] {
    try {
      TlsTestClient client(port);
      client.connect();
      response = client.round_trip(get("/blocked"));
    } catch (const std::exception& e) {
      failure = e.what();
    }
  });
  REQUIRE(handler.entered->wait());

  std::thread stopper([&] { running.server.stop(); });
  std::this_thread::sleep_for(50ms);  // let stop() reach its wait for the handler
  handler.release->raise();
  stopper.join();
  blocked_client.join();

  INFO(failure);
  CHECK(response.body() == "released");
  CHECK_FALSE(response.keep_alive());
}

TEST_CASE("reloads a changed certificate for new connections and keeps open ones",
          "[server][tls][reload]") {
  TempDir dir;
  SecretVolume secret(dir);
  SelfSignedCertificate pair_a = generate_self_signed_certificate("pair-a");
  SelfSignedCertificate pair_b = generate_self_signed_certificate("pair-b");
  secret.publish(pair_a.certificate_pem, pair_a.private_key_pem);
  auto events = std::make_shared<CertificateEvents>();
  HttpsServerOptions options = test_options();
  options.cert_file = secret.cert_file();
  options.key_file = secret.key_file();
  options.certificate_check_interval = 100ms;
  options.on_certificate_event = CertificateEvents::recorder(events);
  RunningServer running(options);

  TlsTestClient before_swap(running.port());
  before_swap.connect();
  REQUIRE(served_common_name(before_swap) == "pair-a");
  REQUIRE(before_swap.round_trip(get("/before")).result_int() == 200);

  // Pair B lands the way a Secret update does: both files at once.
  auto swapped = std::chrono::steady_clock::now();
  secret.publish(pair_b.certificate_pem, pair_b.private_key_pem);
  CHECK(eventually([&] { return served_common_name(running.port()) == "pair-b"; }));
  CHECK(std::chrono::steady_clock::now() - swapped < 2s);  // a few intervals, not a restart
  // Reported just after the swap, on the io thread.
  REQUIRE(eventually([&] { return events->count() >= 1; }));
  CHECK(events->all() ==
        std::vector<std::string>{"serving certificate reloaded from " + secret.cert_file()});

  // The keep-alive connection from before the swap carries on with pair A.
  auto response = before_swap.round_trip(get("/after"));
  CHECK(response.result_int() == 200);
  CHECK(response.body() == "GET /after\nx-test=\n");
  CHECK(served_common_name(before_swap) == "pair-a");

  // Nothing changed since: nothing to reload, nothing to report.
  CHECK_FALSE(running.server.reload_certificate());
  CHECK(events->count() == 1);

  // A broken certificate is rejected and reported once; pair B stays in force.
  secret.publish("-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n",
                 pair_b.private_key_pem);
  REQUIRE(eventually([&] { return events->count() >= 2; }));
  INFO(events->all().back());
  CHECK(events->containing("rejected, the previous one stays in force", 1) == 1);
  CHECK(events->containing(secret.cert_file(), 1) == 1);
  CHECK(served_common_name(running.port()) == "pair-b");
  std::this_thread::sleep_for(300ms);  // several more checks: not reported again
  CHECK(events->count() == 2);
  CHECK(before_swap.round_trip(get("/still")).result_int() == 200);

  // Asked explicitly, it reads the files again and reports the rejection again.
  CHECK_FALSE(running.server.reload_certificate());
  CHECK(events->count() == 3);
  CHECK(served_common_name(running.port()) == "pair-b");

  // Fixed back to the pair in force: no swap, nothing to report.
  secret.publish(pair_b.certificate_pem, pair_b.private_key_pem);
  std::this_thread::sleep_for(300ms);
  CHECK(events->count() == 3);
  CHECK_FALSE(running.server.reload_certificate());
  CHECK(served_common_name(running.port()) == "pair-b");
}

TEST_CASE("rejects a key that does not match, then takes the pair once the key follows",
          "[server][tls][reload]") {
  TempDir dir;
  SelfSignedCertificate pair_a = generate_self_signed_certificate("pair-a");
  SelfSignedCertificate pair_b = generate_self_signed_certificate("pair-b");
  auto events = std::make_shared<CertificateEvents>();
  HttpsServerOptions options = test_options();
  options.cert_file = dir.write("tls.crt", pair_a.certificate_pem);
  options.key_file = dir.write("tls.key", pair_a.private_key_pem);
  options.certificate_check_interval = 100ms;
  options.on_certificate_event = CertificateEvents::recorder(events);
  RunningServer running(options);

  // Each file renamed into place on its own, the key well after the certificate.
  replace_file(options.cert_file, pair_b.certificate_pem);
  REQUIRE(eventually([&] { return events->count() >= 1; }));
  {
    INFO(events->all().front());
    CHECK(events->containing("rejected, the previous one stays in force", 0) == 1);
    CHECK(events->containing("private key file \"" + options.key_file + "\"", 0) == 1);
  }
  CHECK(served_common_name(running.port()) == "pair-a");

  replace_file(options.key_file, pair_b.private_key_pem);
  CHECK(eventually([&] { return served_common_name(running.port()) == "pair-b"; }));
  REQUIRE(eventually([&] { return events->count() >= 2; }));
  CHECK(events->all() ==
        std::vector<std::string>{events->all().front(),
                                 "serving certificate reloaded from " + options.cert_file});
}

TEST_CASE("reload_certificate() loads a new pair at once, also with periodic checks off",
          "[server][tls][reload]") {
  TempDir dir;
  SelfSignedCertificate pair_a = generate_self_signed_certificate("pair-a");
  SelfSignedCertificate pair_b = generate_self_signed_certificate("pair-b");
  auto events = std::make_shared<CertificateEvents>();
  HttpsServerOptions options = test_options();
  options.cert_file = dir.write("tls.crt", pair_a.certificate_pem);
  options.key_file = dir.write("tls.key", pair_a.private_key_pem);
  options.certificate_check_interval = 0ms;
  options.on_certificate_event = CertificateEvents::recorder(events);
  RunningServer running(options);

  replace_file(options.key_file, pair_b.private_key_pem);
  replace_file(options.cert_file, pair_b.certificate_pem);
  std::this_thread::sleep_for(300ms);
  CHECK(served_common_name(running.port()) == "pair-a");  // never looked at on its own
  CHECK(events->count() == 0);

  CHECK(running.server.reload_certificate());
  CHECK(served_common_name(running.port()) == "pair-b");
  CHECK(events->all() ==
        std::vector<std::string>{"serving certificate reloaded from " + options.cert_file});
  CHECK_FALSE(running.server.reload_certificate());
  CHECK(events->count() == 1);

  SECTION("a missing file is rejected") {
    std::filesystem::remove(options.key_file);
    CHECK_FALSE(running.server.reload_certificate());
    REQUIRE(events->count() == 2);
    INFO(events->all().back());
    CHECK(events->containing("cannot read private key file", 1) == 1);
    CHECK(served_common_name(running.port()) == "pair-b");
  }
  SECTION("a key from another pair is rejected") {
    replace_file(options.key_file, pair_a.private_key_pem);
    CHECK_FALSE(running.server.reload_certificate());
    REQUIRE(events->count() == 2);
    INFO(events->all().back());
    CHECK(events->containing("private key file \"" + options.key_file + "\"", 1) == 1);
    CHECK(served_common_name(running.port()) == "pair-b");
  }
}

TEST_CASE("connections are served while the certificate keeps changing", "[server][tls][reload]") {
  TempDir dir;
  const SelfSignedCertificate pairs[] = {generate_self_signed_certificate("pair-a"),
                                         generate_self_signed_certificate("pair-b")};
  auto events = std::make_shared<CertificateEvents>();
  HttpsServerOptions options = test_options();
  options.io_threads = 2;
  options.cert_file = dir.write("tls.crt", pairs[0].certificate_pem);
  options.key_file = dir.write("tls.key", pairs[0].private_key_pem);
  options.certificate_check_interval = 10ms;  // the timer and reload_certificate() race
  options.on_certificate_event = CertificateEvents::recorder(events);
  RunningServer running(options);

  constexpr int kClients = 3;
  std::atomic<bool> done{false};
  std::vector<int> answered(kClients, 0);
  std::vector<std::string> failures(kClients);
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c, port = running.port()] {
      try {
        while (!done) {
          TlsTestClient client(port);
          client.connect();
          std::string name = served_common_name(client);
          if (name != "pair-a" && name != "pair-b") throw std::runtime_error("served " + name);
          for (int r = 0; r < 3; ++r) {
            if (client.round_trip(get("/flip")).result_int() == 200) ++answered[c];
          }
        }
      } catch (const std::exception& e) {
        failures[c] = e.what();
      }
    });
  }
  for (int flip = 1; flip <= 20; ++flip) {
    const SelfSignedCertificate& next = pairs[flip % 2];
    // Key first, so a look in between sees a mismatch: rejections race with reloads too.
    replace_file(options.key_file, next.private_key_pem);
    replace_file(options.cert_file, next.certificate_pem);
    running.server.reload_certificate();
    std::this_thread::sleep_for(15ms);
  }
  done = true;
  for (std::thread& client : clients) client.join();

  for (int c = 0; c < kClients; ++c) {
    INFO("client " << c << ": " << failures[c]);
    CHECK(failures[c].empty());
    CHECK(answered[c] > 0);
  }
  CHECK(events->containing("serving certificate reloaded from") >= 10);
  CHECK(served_common_name(running.port()) == "pair-a");
}

TEST_CASE("reload_certificate() is false in self-signed mode and when not running",
          "[server][tls][reload]") {
  auto events = std::make_shared<CertificateEvents>();
  HttpsServerOptions options = test_options();
  options.certificate_check_interval = 50ms;
  options.on_certificate_event = CertificateEvents::recorder(events);

  HttpsServer server(options, echo_handler);
  CHECK_FALSE(server.reload_certificate());  // not started
  server.start();
  std::string generated = served_certificate_der(server.port());
  REQUIRE_FALSE(generated.empty());
  CHECK_FALSE(server.reload_certificate());
  std::this_thread::sleep_for(200ms);
  CHECK(served_certificate_der(server.port()) == generated);
  server.stop();
  CHECK_FALSE(server.reload_certificate());
  CHECK(events->count() == 0);
}

TEST_CASE("on_certificate_event may throw or call reload_certificate()", "[server][tls][reload]") {
  TempDir dir;
  SelfSignedCertificate pair_a = generate_self_signed_certificate("pair-a");
  SelfSignedCertificate pair_b = generate_self_signed_certificate("pair-b");
  HttpsServerOptions options = test_options();
  options.cert_file = dir.write("tls.crt", pair_a.certificate_pem);
  options.key_file = dir.write("tls.key", pair_a.private_key_pem);
  options.certificate_check_interval = 50ms;
  HttpsServer* server = nullptr;  // set before start(), so before the callback can run
  auto nested = std::make_shared<CertificateEvents>();
  auto record = CertificateEvents::recorder(nested);
  options.on_certificate_event = [&server, record](const std::string&) {
    record(server->reload_certificate() ? "nested reload ran" : "nested reload refused");
    throw std::runtime_error("logger failed");
  };
  HttpsServer running(options, echo_handler);
  server = &running;
  running.start();

  replace_file(options.key_file, pair_b.private_key_pem);
  replace_file(options.cert_file, pair_b.certificate_pem);
  CHECK(eventually([&] { return served_common_name(running.port()) == "pair-b"; }));
  REQUIRE(eventually([&] { return nested->count() >= 1; }));
  // A look between the two renames may have rejected a mismatched pair first: one or two events.
  std::vector<std::string> events = nested->all();
  CHECK(events.size() == static_cast<std::size_t>(std::count(
                             events.begin(), events.end(), std::string("nested reload refused"))));
  // Still checking after the callback threw.
  replace_file(options.key_file, pair_a.private_key_pem);
  replace_file(options.cert_file, pair_a.certificate_pem);
  CHECK(eventually([&] { return served_common_name(running.port()) == "pair-a"; }));
}

TEST_CASE("install_certificate() serves a pair held in memory to new connections; a broken one is refused",
          "[server][tls][install]") {
  SelfSignedCertificate pair_a = generate_self_signed_certificate("pair-a");
  SelfSignedCertificate pair_b = generate_self_signed_certificate("pair-b");
  auto events = std::make_shared<CertificateEvents>();
  std::vector<std::string> in_force;  // source of each certificate put in force, in order
  std::mutex in_force_mutex;
  HttpsServerOptions options = test_options();
  options.on_certificate_event = CertificateEvents::recorder(events);
  options.on_certificate_in_force = [&](const std::string& pem, const std::string& source) {
    std::lock_guard lock(in_force_mutex);
    in_force.push_back(source + (pem.empty() ? " (empty)" : ""));
  };
  HttpsServer server(options, echo_handler);
  CHECK_THROWS_WITH(server.install_certificate(pair_a.certificate_pem, pair_a.private_key_pem, "Secret x"),
                    Catch::Contains("not running"));
  server.start();
  TlsTestClient before(server.port());  // accepted with the generated pair
  before.connect();
  REQUIRE(served_common_name(before) == "sysdig-metrics-adapter");

  CHECK(server.install_certificate(pair_a.certificate_pem, pair_a.private_key_pem, "Secret ns/x"));
  CHECK(served_common_name(server.port()) == "pair-a");
  CHECK(server.certificate_pem() == pair_a.certificate_pem);
  CHECK_FALSE(server.install_certificate(pair_a.certificate_pem, pair_a.private_key_pem, "Secret ns/x"));
  CHECK_THROWS(server.install_certificate(pair_b.certificate_pem, pair_a.private_key_pem, "Secret ns/x"));
  CHECK(served_common_name(server.port()) == "pair-a");
  CHECK(before.round_trip(get("/open")).result_int() == 200);  // open connections keep theirs
  CHECK(served_common_name(before) == "sysdig-metrics-adapter");
  CHECK(events->all() == std::vector<std::string>{"serving certificate loaded from Secret ns/x"});
  {
    std::lock_guard lock(in_force_mutex);
    CHECK(in_force == std::vector<std::string>{"self-signed", "installed"});
  }
  server.stop();
}

TEST_CASE("an empty on_certificate_event is tolerated", "[server][tls][reload]") {
  TempDir dir;
  SelfSignedCertificate pair_a = generate_self_signed_certificate("pair-a");
  SelfSignedCertificate pair_b = generate_self_signed_certificate("pair-b");
  HttpsServerOptions options = test_options();
  options.cert_file = dir.write("tls.crt", pair_a.certificate_pem);
  options.key_file = dir.write("tls.key", pair_a.private_key_pem);
  options.certificate_check_interval = 0ms;
  options.on_certificate_event = nullptr;
  RunningServer running(options);

  replace_file(options.cert_file, "garbage\n");
  CHECK_FALSE(running.server.reload_certificate());
  replace_file(options.key_file, pair_b.private_key_pem);
  replace_file(options.cert_file, pair_b.certificate_pem);
  CHECK(running.server.reload_certificate());
  CHECK(served_common_name(running.port()) == "pair-b");
}

}  // namespace sma::server
