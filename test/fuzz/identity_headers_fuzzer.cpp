// Authenticator::authenticate on requests whose headers come from the input. The authenticator
// trusts a front-proxy CA and a client CA (both generated at start) and has no token reviewer.
// Property: without a client certificate that verifies against one of them the outcome is
// Unauthenticated, never Authenticated (nor Unavailable), whatever X-Remote-User, X-Remote-Group,
// X-Remote-Extra-* or Authorization say. Each input is tried with no peer certificate, and either
// with a self-signed certificate the CAs did not sign (CN of a front proxy) or with that certificate
// followed by the trusted CAs' own certificates as would-be intermediates.
//
// Input: header lines "Name: value" separated by '\n' (a trailing '\r' is dropped) up to an empty
// line; what follows is the body.
#include <exception>
#include <memory>

#include "lib/auth/authenticator.h"
#include "lib/server/self_signed_cert.h"
#include "test/fuzz/fuzz_check.h"

namespace {

using namespace sma;
using fuzz::printable;
using Outcome = auth::AuthenticationResult::Outcome;

struct Fixture {
  std::unique_ptr<auth::Authenticator> authenticator;
  std::string front_proxy_ca_pem;
  std::string client_ca_pem;
  std::string untrusted_pem;
};

const Fixture& fixture() {
  static const Fixture f = [] {
    Fixture f;
    f.front_proxy_ca_pem = server::generate_self_signed_certificate("front-proxy-ca").certificate_pem;
    f.client_ca_pem = server::generate_self_signed_certificate("client-ca").certificate_pem;
    f.untrusted_pem = server::generate_self_signed_certificate("front-proxy-client").certificate_pem;
    auth::RequestHeaderSettings settings;
    settings.front_proxy_ca = std::make_shared<auth::ClientCertificateVerifier>(f.front_proxy_ca_pem, "front-proxy CA");
    f.authenticator = std::make_unique<auth::Authenticator>(
        std::move(settings), std::make_shared<auth::ClientCertificateVerifier>(f.client_ca_pem, "client CA"), nullptr);
    return f;
  }();
  return f;
}

server::HttpRequest request_from(std::string_view input, std::vector<std::string> chain) {
  server::HttpRequest request;
  request.method = "GET";
  request.target = "/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/*/http_requests";
  request.remote_address = "127.0.0.1:40000";
  while (!input.empty()) {
    auto newline = input.find('\n');
    std::string_view line = input.substr(0, newline);
    input = newline == std::string_view::npos ? std::string_view{} : input.substr(newline + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) break;  // the body follows
    auto colon = line.find(':');
    std::string_view name = line.substr(0, colon);
    std::string_view value = colon == std::string_view::npos ? std::string_view{} : line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    request.headers.emplace_back(std::string(name), std::string(value));
  }
  request.body = std::string(input);
  auto peer = std::make_shared<server::PeerCertificates>();
  peer->chain_pem = std::move(chain);
  request.peer = std::move(peer);
  return request;
}

// The property would be empty if nothing could ever authenticate: a trusted front proxy naming a
// user, and a trusted client certificate, must.
void check_fixture_authenticates(const Fixture& f) {
  auto proxied = request_from("X-Remote-User: alice\nX-Remote-Group: devs\n", {f.front_proxy_ca_pem});
  auto result = f.authenticator->authenticate(proxied);
  FUZZ_CHECK(result.outcome == Outcome::Authenticated && result.user.name == "alice",
             "a trusted front proxy is not believed: " + result.reason);
  auto direct = request_from("", {f.client_ca_pem});
  result = f.authenticator->authenticate(direct);
  FUZZ_CHECK(result.outcome == Outcome::Authenticated && result.user.name == "client-ca",
             "a trusted client certificate is not accepted: " + result.reason);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  check_fixture_authenticates(fixture());
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Fixture& f = fixture();
  const std::string_view input = fuzz::as_text(data, size);
  // Certificate verification dominates the cost: every input is tried without a certificate and
  // with one of the two untrusted chains (by the parity of its length).
  const std::vector<std::vector<std::string>> chains = {
      {},
      size % 2 == 0 ? std::vector<std::string>{f.untrusted_pem}
                    : std::vector<std::string>{f.untrusted_pem, f.front_proxy_ca_pem, f.client_ca_pem},
  };
  for (std::size_t i = 0; i < chains.size(); ++i) {
    const auto request = request_from(input, chains[i]);
    auth::AuthenticationResult result;
    try {
      result = f.authenticator->authenticate(request);
    } catch (const std::exception& e) {
      FUZZ_CHECK(false, std::string("authenticate threw ") + e.what() + " for " + printable(input));
    }
    FUZZ_CHECK(result.outcome != Outcome::Authenticated,
               "authenticated as " + printable(result.user.name) + " without a trusted certificate (" +
                   (i == 0 ? std::string("none") : "untrusted chain of " + std::to_string(chains[i].size())) + ") from " +
                   printable(input));
    FUZZ_CHECK(result.outcome == Outcome::Unauthenticated, "outcome Unavailable without a token reviewer: " + result.reason);
    FUZZ_CHECK(!result.reason.empty() && result.user.name.empty(), "an unauthenticated result with a user or no reason");
  }
  return 0;
}
