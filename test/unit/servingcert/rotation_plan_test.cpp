// Every rule of the serving certificate's life, at made-up times: made, kept, renewed at two thirds
// of its life, its authority rotated and the old one retired, Secrets of others used as given,
// unusable ones replaced only when allowed.
#include "lib/servingcert/rotation_plan.h"

#include <catch2/catch.hpp>

#include "lib/tls/certificate_issuer.h"

namespace sma::servingcert {
namespace {

using namespace std::chrono_literals;
using tls::CertificateFacts;

RotationSettings settings() {
  RotationSettings s;
  s.dns_names = {"sysdig-metrics-adapter.custom-metrics.svc", "sysdig-metrics-adapter.custom-metrics"};
  s.serving_validity = 3000s;
  s.authority_validity = 30000s;
  s.retire_after = 180s;
  return s;
}

CertificateFacts facts_of(const std::string& pem) { return tls::read_certificates(pem).front(); }

ServingSecret ours(ServingMaterial material) {
  ServingSecret secret;
  secret.resource_version = "7";
  secret.made_by_adapter = true;
  secret.material = std::move(material);
  return secret;
}

ServingMaterial created(const RotationSettings& s = settings()) {
  RotationPlan plan = plan_rotation(std::nullopt, tls::Clock::now(), s, false);
  REQUIRE(plan.step == Step::Create);
  REQUIRE(plan.write);
  return *plan.write;
}

// The time at which `fraction` of the certificate's life has passed.
tls::Clock::time_point at_life(const std::string& pem, double fraction) {
  CertificateFacts f = facts_of(pem);
  return f.not_before + std::chrono::duration_cast<tls::Clock::duration>((f.not_after - f.not_before) * fraction);
}

}  // namespace

TEST_CASE("a missing Secret is created: an authority and a serving pair it signed, for the Service's names",
          "[servingcert]") {
  RotationPlan plan = plan_rotation(std::nullopt, tls::Clock::now(), settings(), false);
  REQUIRE(plan.step == Step::Create);
  REQUIRE(plan.write);
  const ServingMaterial& m = *plan.write;
  CHECK(plan.serve == m);
  CertificateFacts ca = facts_of(m.ca_bundle_pem);
  CertificateFacts leaf = facts_of(m.certificate_pem);
  CHECK(ca.is_authority);
  CHECK(tls::read_certificates(m.ca_bundle_pem).size() == 1);
  CHECK(tls::key_matches(m.ca_bundle_pem, m.ca_key_pem));
  CHECK(tls::key_matches(m.certificate_pem, m.key_pem));
  CHECK(tls::issued_by(m.certificate_pem, m.ca_bundle_pem));
  CHECK(leaf.dns_names == settings().dns_names);
  CHECK(leaf.not_after - leaf.not_before == 3300s);
  CHECK(ca.not_after - ca.not_before == 33000s);  // backdated by a tenth (under an hour)
}

TEST_CASE("a current Secret of ours is kept and served", "[servingcert]") {
  ServingMaterial m = created();
  RotationPlan plan = plan_rotation(ours(m), tls::Clock::now(), settings(), true);
  CHECK(plan.step == Step::Keep);
  CHECK_FALSE(plan.write);
  CHECK(plan.serve == m);
  // Just before two thirds of the serving pair's life: still kept.
  CHECK(plan_rotation(ours(m), at_life(m.certificate_pem, 0.66), settings(), true).step == Step::Keep);
}

TEST_CASE("at two thirds of its life the serving pair is renewed by the same authority", "[servingcert]") {
  ServingMaterial m = created();
  RotationPlan plan = plan_rotation(ours(m), at_life(m.certificate_pem, 0.67), settings(), true);
  REQUIRE(plan.step == Step::RenewServing);
  REQUIRE(plan.write);
  CHECK(plan.write->ca_bundle_pem == m.ca_bundle_pem);
  CHECK(plan.write->ca_key_pem == m.ca_key_pem);
  CHECK(plan.write->certificate_pem != m.certificate_pem);
  CHECK(plan.write->key_pem != m.key_pem);
  CHECK(tls::issued_by(plan.write->certificate_pem, m.ca_bundle_pem));
  CHECK(tls::key_matches(plan.write->certificate_pem, plan.write->key_pem));
  // An expired pair is renewed the same way.
  CHECK(plan_rotation(ours(m), at_life(m.certificate_pem, 1.5), settings(), true).step == Step::RenewServing);
}

TEST_CASE("a serving pair without the configured names is renewed", "[servingcert]") {
  ServingMaterial m = created();
  RotationSettings more = settings();
  more.dns_names.push_back("metrics.example.com");
  RotationPlan plan = plan_rotation(ours(m), tls::Clock::now(), more, true);
  REQUIRE(plan.step == Step::RenewServing);
  CHECK(plan.reason.find("metrics.example.com") != std::string::npos);
  CHECK(facts_of(plan.write->certificate_pem).dns_names.back() == "metrics.example.com");
}

TEST_CASE("the authority rotates at two thirds of its life; both are trusted until the old one retires",
          "[servingcert]") {
  ServingMaterial m = created();
  const tls::Clock::time_point late = at_life(m.ca_bundle_pem, 0.7);

  // The serving pair expired long before that moment; make it current at `late` so the steps
  // below are about the authority alone.
  RotationSettings s = settings();
  s.serving_validity = 30000s;
  m = created(s);

  RotationPlan rotate = plan_rotation(ours(m), late, s, true);
  REQUIRE(rotate.step == Step::RotateAuthority);
  const ServingMaterial& rotated = *rotate.write;
  std::vector<CertificateFacts> bundle = tls::read_certificates(rotated.ca_bundle_pem);
  REQUIRE(bundle.size() == 2);
  CHECK(bundle[1].pem == m.ca_bundle_pem);                     // the old one, kept
  CHECK(tls::key_matches(bundle[0].pem, rotated.ca_key_pem));  // the new one signs from now on
  CHECK(rotated.certificate_pem == m.certificate_pem);          // the pair in use stays for now

  // The steps that follow happen while both authorities are young: now.
  const tls::Clock::time_point now = tls::Clock::now();
  // Until every APIService trusts the new authority, the pair from the old one is kept.
  RotationPlan waiting = plan_rotation(ours(rotated), now, s, false);
  CHECK(waiting.step == Step::Keep);
  CHECK(waiting.reason.find("waiting") != std::string::npos);

  RotationPlan renew = plan_rotation(ours(rotated), now, s, true);
  REQUIRE(renew.step == Step::RenewServing);
  const ServingMaterial& renewed = *renew.write;
  CHECK(tls::issued_by(renewed.certificate_pem, bundle[0].pem));
  CHECK(renewed.ca_bundle_pem == rotated.ca_bundle_pem);

  // The old authority leaves ca.crt once replicas have had time to load the new pair.
  const tls::Clock::time_point issued =
      facts_of(renewed.certificate_pem).not_before + tls::backdating_for(s.serving_validity);
  CHECK(plan_rotation(ours(renewed), issued + 170s, s, true).step == Step::Keep);
  RotationPlan retire = plan_rotation(ours(renewed), issued + 181s, s, true);
  REQUIRE(retire.step == Step::RetirePrevious);
  CHECK(retire.write->ca_bundle_pem == bundle[0].pem);
  CHECK(retire.write->certificate_pem == renewed.certificate_pem);
  CHECK(plan_rotation(ours(*retire.write), issued + 181s, s, true).step == Step::Keep);
}

TEST_CASE("a serving pair left waiting is renewed anyway at two thirds of its life", "[servingcert]") {
  ServingMaterial m = created();
  ServingMaterial rotated = m;
  tls::IssuedPair next = tls::issue_certificate_authority("next", 30000s);
  rotated.ca_bundle_pem = next.certificate_pem + m.ca_bundle_pem;
  rotated.ca_key_pem = next.private_key_pem;
  CHECK(plan_rotation(ours(rotated), tls::Clock::now(), settings(), false).step == Step::Keep);
  RotationPlan plan = plan_rotation(ours(rotated), at_life(m.certificate_pem, 0.7), settings(), false);
  REQUIRE(plan.step == Step::RenewServing);
  CHECK(tls::issued_by(plan.write->certificate_pem, next.certificate_pem));
}

TEST_CASE("an expired authority of ours is replaced whole", "[servingcert]") {
  ServingMaterial m = created();
  RotationPlan plan = plan_rotation(ours(m), at_life(m.ca_bundle_pem, 1.01), settings(), true);
  REQUIRE(plan.step == Step::Replace);
  CHECK(plan.write->ca_bundle_pem != m.ca_bundle_pem);
  CHECK(tls::issued_by(plan.write->certificate_pem, plan.write->ca_bundle_pem));
}

TEST_CASE("a Secret made by someone else is served as it is and never rewritten, unless expired", "[servingcert]") {
  ServingMaterial m = created();
  ServingSecret foreign = ours(m);
  foreign.made_by_adapter = false;
  foreign.material.ca_key_pem.clear();

  RotationPlan plan = plan_rotation(foreign, at_life(m.certificate_pem, 0.9), settings(), false);
  CHECK(plan.step == Step::UseAsGiven);
  CHECK_FALSE(plan.write);
  CHECK(plan.serve.certificate_pem == m.certificate_pem);
  CHECK(plan.serve.ca_bundle_pem == m.ca_bundle_pem);  // its ca.crt is injected

  foreign.material.ca_bundle_pem.clear();  // kubectl create secret tls: no ca.crt
  plan = plan_rotation(foreign, tls::Clock::now(), settings(), false);
  CHECK(plan.step == Step::UseAsGiven);
  CHECK(plan.serve.ca_bundle_pem.empty());
  CHECK(plan.reason.find("no caBundle") != std::string::npos);

  plan = plan_rotation(foreign, at_life(m.certificate_pem, 1.01), settings(), false);
  REQUIRE(plan.step == Step::Replace);
  CHECK(plan.reason.find("expired") != std::string::npos);
}

TEST_CASE("an unusable Secret is replaced only when allowed", "[servingcert]") {
  ServingMaterial m = created();
  ServingSecret tampered = ours(m);
  tampered.material.certificate_pem = "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n";

  RotationPlan kept = plan_rotation(tampered, tls::Clock::now(), settings(), true);
  CHECK(kept.step == Step::Unusable);
  CHECK_FALSE(kept.write);
  CHECK(kept.serve.certificate_pem.empty());  // nothing in it can be served
  CHECK(kept.reason.find("tls.crt") != std::string::npos);

  RotationSettings allowed = settings();
  allowed.replace_unusable = true;
  RotationPlan replaced = plan_rotation(tampered, tls::Clock::now(), allowed, true);
  REQUIRE(replaced.step == Step::Replace);
  CHECK(tls::issued_by(replaced.write->certificate_pem, replaced.write->ca_bundle_pem));

  // A broken ca.key leaves a servable pair: it is served, and nothing is rotated.
  ServingSecret keyless = ours(m);
  keyless.material.ca_key_pem = m.key_pem;
  RotationPlan served = plan_rotation(keyless, tls::Clock::now(), settings(), true);
  CHECK(served.step == Step::Unusable);
  CHECK(served.reason.find("ca.key") != std::string::npos);
  CHECK(served.serve.certificate_pem == m.certificate_pem);

  ServingSecret foreign = tampered;
  foreign.made_by_adapter = false;
  CHECK(plan_rotation(foreign, tls::Clock::now(), settings(), true).step == Step::Unusable);
  CHECK(plan_rotation(foreign, tls::Clock::now(), allowed, true).step == Step::Replace);
}

}  // namespace sma::servingcert
