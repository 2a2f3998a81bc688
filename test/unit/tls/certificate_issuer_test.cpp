// An authority, what it signs, and what certificate_facts reads back from them.
#include "lib/tls/certificate_issuer.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <stdexcept>

#include "lib/tls/certificate_facts.h"

namespace sma::tls {
namespace {

using namespace std::chrono_literals;

SubjectNames service_names() {
  SubjectNames names;
  names.common_name = "sysdig-metrics-adapter.custom-metrics.svc";
  names.dns_names = {"sysdig-metrics-adapter.custom-metrics.svc", "sysdig-metrics-adapter.custom-metrics"};
  return names;
}

}  // namespace

TEST_CASE("an authority signs a serving certificate that verifies against it and no other", "[tls]") {
  IssuedPair authority = issue_certificate_authority("test-ca", 3650 * 24h);
  IssuedPair stranger = issue_certificate_authority("other-ca", 3650 * 24h);
  IssuedPair serving = issue_serving_certificate(authority, service_names(), 365 * 24h);

  CHECK(issued_by(serving.certificate_pem, authority.certificate_pem));
  CHECK_FALSE(issued_by(serving.certificate_pem, stranger.certificate_pem));
  CHECK_FALSE(issued_by(authority.certificate_pem, serving.certificate_pem));
  CHECK(key_matches(serving.certificate_pem, serving.private_key_pem));
  CHECK_FALSE(key_matches(serving.certificate_pem, authority.private_key_pem));

  std::vector<CertificateFacts> ca = read_certificates(authority.certificate_pem);
  REQUIRE(ca.size() == 1);
  CHECK(ca[0].is_authority);
  CHECK(ca[0].common_name == "test-ca");
  CHECK(ca[0].not_after - ca[0].not_before == 3650 * 24h + 1h);  // plus the backdating

  std::vector<CertificateFacts> leaf = read_certificates(serving.certificate_pem);
  REQUIRE(leaf.size() == 1);
  CHECK_FALSE(leaf[0].is_authority);
  CHECK(leaf[0].dns_names == service_names().dns_names);
  CHECK(leaf[0].common_name == "sysdig-metrics-adapter.custom-metrics.svc");
  CHECK(leaf[0].sha256_fingerprint.size() == 64);
  CHECK(leaf[0].sha256_fingerprint != ca[0].sha256_fingerprint);
}

TEST_CASE("life used runs from notBefore (0) to notAfter (1)", "[tls]") {
  IssuedPair authority = issue_certificate_authority("test-ca", 300s);
  CertificateFacts facts = read_certificates(authority.certificate_pem).at(0);
  CHECK(facts.not_after - facts.not_before == 330s);  // 300 s, backdated by a tenth
  CHECK(facts.life_used(facts.not_before) == Approx(0.0));
  CHECK(facts.life_used(facts.not_before + 220s) == Approx(2.0 / 3.0));
  CHECK(facts.life_used(facts.not_after) == Approx(1.0));
  CHECK_FALSE(facts.expired(facts.not_after - 1s));
  CHECK(facts.expired(facts.not_after));
}

TEST_CASE("a bundle reads as its certificates in order; broken PEM is refused", "[tls]") {
  IssuedPair first = issue_certificate_authority("first", 3650 * 24h);
  IssuedPair second = issue_certificate_authority("second", 3650 * 24h);
  std::vector<CertificateFacts> bundle = read_certificates(first.certificate_pem + second.certificate_pem);
  REQUIRE(bundle.size() == 2);
  CHECK(bundle[0].common_name == "first");
  CHECK(bundle[1].common_name == "second");
  CHECK(bundle[0].pem == first.certificate_pem);

  std::string broken = first.certificate_pem;
  broken[broken.size() / 2] = '!';
  CHECK_THROWS_AS(read_certificates(broken), std::runtime_error);
  CHECK_THROWS_AS(read_certificates(second.certificate_pem + broken), std::runtime_error);
  CHECK_THROWS_AS(read_certificates("not a certificate"), std::runtime_error);
  CHECK_THROWS_AS(read_certificates(""), std::runtime_error);
  CHECK_FALSE(key_matches(first.certificate_pem, "not a key"));
}

TEST_CASE("names that cannot go into a certificate are refused", "[tls]") {
  IssuedPair authority = issue_certificate_authority("test-ca", 3650 * 24h);
  SubjectNames names = service_names();
  names.dns_names.push_back("bad name\"");
  CHECK_THROWS_WITH(issue_serving_certificate(authority, names, 24h), Catch::Contains("not a DNS name"));
  names = service_names();
  names.ip_addresses = {"300.1.1.1"};
  CHECK_THROWS_WITH(issue_serving_certificate(authority, names, 24h), Catch::Contains("not an IP address"));
  IssuedPair mismatched{authority.certificate_pem, issue_certificate_authority("x", 24h).private_key_pem};
  CHECK_THROWS_WITH(issue_serving_certificate(mismatched, service_names(), 24h),
                    Catch::Contains("does not belong"));
}

}  // namespace sma::tls
