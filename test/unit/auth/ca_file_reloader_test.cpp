#include "lib/auth/ca_file_reloader.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "lib/server/self_signed_cert.h"
#include "test/unit/kube/scratch_directory.h"

using sma::auth::CaFileReloader;
using sma::auth::ClientCertificateVerifier;
using sma::kube::testing::ScratchDirectory;

namespace {

// A self-signed certificate usable for client authentication is its own CA: presenting it as the
// chain verifies against a bundle that holds it, and against nothing else.
std::string certificate(const char* cn) { return sma::server::generate_self_signed_certificate(cn).certificate_pem; }

bool trusts(const ClientCertificateVerifier& verifier, const std::string& pem) {
  return verifier.verify({pem}).has_value();
}

}  // namespace

TEST_CASE("a replaced CA file is put in force: the new CA is trusted, the old one no longer", "[ca_reload]") {
  ScratchDirectory dir;
  const std::string old_ca = certificate("old-ca");
  const std::string new_ca = certificate("new-ca");
  const std::string file = dir.write("client-ca.crt", old_ca);
  auto verifier = std::make_shared<ClientCertificateVerifier>(old_ca, file);
  CaFileReloader reloader;
  reloader.watch(file, "--client-ca-file", verifier);
  CHECK(reloader.files() == std::vector<std::string>{file});

  CHECK(reloader.reload().empty());  // unchanged: nothing to report
  REQUIRE(trusts(*verifier, old_ca));
  REQUIRE_FALSE(trusts(*verifier, new_ca));

  dir.write("client-ca.crt", new_ca);
  auto events = reloader.reload();
  REQUIRE(events.size() == 1);
  CHECK_FALSE(events[0].rejected);
  CHECK(events[0].file == file);
  CHECK(events[0].flag == "--client-ca-file");
  CHECK(trusts(*verifier, new_ca));
  CHECK_FALSE(trusts(*verifier, old_ca));
  CHECK(reloader.reload().empty());

  // A bundle of both (overlap during a rotation) trusts both.
  dir.write("client-ca.crt", old_ca + new_ca);
  REQUIRE(reloader.reload().size() == 1);
  CHECK(trusts(*verifier, new_ca));
  CHECK(trusts(*verifier, old_ca));
}

TEST_CASE("a broken or missing CA file is rejected with its reason and the CA in force stays", "[ca_reload]") {
  ScratchDirectory dir;
  const std::string ca = certificate("ca");
  const std::string file = dir.write("front-proxy-ca.crt", ca);
  auto verifier = std::make_shared<ClientCertificateVerifier>(ca, file);
  CaFileReloader reloader;
  reloader.watch(file, "--requestheader-client-ca-file", verifier);

  dir.write("front-proxy-ca.crt", "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n");
  auto events = reloader.reload();
  REQUIRE(events.size() == 1);
  CHECK(events[0].rejected);
  CHECK(events[0].reason == "no CA certificate could be read from " + file);
  CHECK(trusts(*verifier, ca));

  dir.write("front-proxy-ca.crt", "");
  REQUIRE(reloader.reload().size() == 1);
  CHECK(trusts(*verifier, ca));

  std::filesystem::remove(file);
  events = reloader.reload();
  REQUIRE(events.size() == 1);
  CHECK(events[0].rejected);
  CHECK(events[0].reason == "cannot read " + file);
  CHECK(trusts(*verifier, ca));

  // Restoring the file that is in force is not news; a good new one still goes in force afterwards.
  dir.write("front-proxy-ca.crt", ca);
  CHECK(reloader.reload().empty());
  const std::string next = certificate("next-ca");
  dir.write("front-proxy-ca.crt", next);
  REQUIRE(reloader.reload().size() == 1);
  CHECK(trusts(*verifier, next));
}

TEST_CASE("verifying while the CA is replaced never sees a half-built bundle", "[ca_reload]") {
  const std::string a = certificate("a-ca");
  const std::string b = certificate("b-ca");
  ClientCertificateVerifier verifier(a, "a");
  // Every bundle put in force holds `a`, so `a` must verify throughout.
  std::atomic<bool> stop{false};
  std::atomic<int> refused{0};
  std::thread checker([&] {
    while (!stop) {
      if (!trusts(verifier, a)) ++refused;
    }
  });
  for (int i = 0; i < 200; ++i) verifier.replace(i % 2 ? a : a + b, "rotation");
  stop = true;
  checker.join();
  CHECK(refused == 0);
  CHECK_FALSE(trusts(verifier, b));  // the last bundle (i = 199) is `a` alone
  CHECK_THROWS_AS(verifier.replace("garbage", "broken"), std::runtime_error);
  CHECK(trusts(verifier, a));
}
