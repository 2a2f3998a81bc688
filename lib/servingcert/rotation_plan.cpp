#include "lib/servingcert/rotation_plan.h"

#include <algorithm>
#include <stdexcept>

#include "lib/tls/certificate_issuer.h"

namespace sma::servingcert {
namespace {

using tls::CertificateFacts;
using tls::Clock;

// What a Secret's material is, read once. `problem` names the first thing that makes it unusable.
struct Inspection {
  std::string problem;
  bool pair_usable = false;  // tls.crt parses and tls.key is its key
  std::optional<CertificateFacts> leaf;
  std::vector<CertificateFacts> authorities;  // ca.crt, in order; empty when absent or broken
};

Inspection inspect(const ServingMaterial& material, bool need_authority_key) {
  Inspection found;
  auto note = [&found](std::string problem) {
    if (found.problem.empty()) found.problem = std::move(problem);
  };
  try {
    found.leaf = tls::read_certificates(material.certificate_pem).front();
    if (tls::key_matches(material.certificate_pem, material.key_pem)) {
      found.pair_usable = true;
    } else {
      note(material.key_pem.empty() ? "tls.key is missing" : "tls.key is not the key of tls.crt");
    }
  } catch (const std::exception& e) {
    note(material.certificate_pem.empty() ? "tls.crt is missing" : std::string("tls.crt: ") + e.what());
  }
  if (!material.ca_bundle_pem.empty() || need_authority_key) {
    try {
      found.authorities = tls::read_certificates(material.ca_bundle_pem);
    } catch (const std::exception& e) {
      note(material.ca_bundle_pem.empty() ? "ca.crt is missing" : std::string("ca.crt: ") + e.what());
    }
  }
  if (need_authority_key && !found.authorities.empty() &&
      !tls::key_matches(found.authorities.front().pem, material.ca_key_pem)) {
    note(material.ca_key_pem.empty() ? "ca.key is missing" : "ca.key is not the key of the first certificate of ca.crt");
  }
  return found;
}

// When a certificate of ours was made: its notBefore plus the backdating issue_* applied.
Clock::time_point issued_at(const CertificateFacts& facts) {
  const auto total = std::chrono::duration_cast<std::chrono::seconds>(facts.not_after - facts.not_before);
  // total = validity + min(1 h, validity / 10)
  const std::chrono::seconds backdated = std::min<std::chrono::seconds>(std::chrono::hours(1), total / 11);
  return facts.not_before + backdated;
}

tls::IssuedPair new_authority(const RotationSettings& settings, Clock::time_point now) {
  const auto stamp = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  return tls::issue_certificate_authority("sysdig-metrics-adapter-ca@" + std::to_string(stamp),
                                          settings.authority_validity);
}

tls::IssuedPair new_serving_pair(const tls::IssuedPair& authority, const RotationSettings& settings) {
  if (settings.dns_names.empty()) throw std::runtime_error("the serving certificate needs at least one DNS name");
  tls::SubjectNames names;
  names.common_name = settings.dns_names.front();
  names.dns_names = settings.dns_names;
  return tls::issue_serving_certificate(authority, names, settings.serving_validity);
}

ServingMaterial fresh_material(const RotationSettings& settings, Clock::time_point now) {
  tls::IssuedPair authority = new_authority(settings, now);
  tls::IssuedPair serving = new_serving_pair(authority, settings);
  return {authority.certificate_pem, authority.private_key_pem, serving.certificate_pem, serving.private_key_pem};
}

RotationPlan writing(Step step, std::string reason, ServingMaterial material) {
  RotationPlan plan;
  plan.step = step;
  plan.reason = std::move(reason);
  plan.serve = material;
  plan.write = std::move(material);
  return plan;
}

RotationPlan serving_as_is(Step step, std::string reason, const ServingMaterial& material) {
  RotationPlan plan;
  plan.step = step;
  plan.reason = std::move(reason);
  plan.serve = material;
  return plan;
}

RotationPlan renew_serving(const ServingMaterial& current, const RotationSettings& settings, std::string reason) {
  ServingMaterial next = current;
  tls::IssuedPair serving = new_serving_pair({current.ca_bundle_pem, current.ca_key_pem}, settings);
  next.certificate_pem = serving.certificate_pem;
  next.key_pem = serving.private_key_pem;
  return writing(Step::RenewServing, std::move(reason), std::move(next));
}

std::string missing_name(const CertificateFacts& leaf, const RotationSettings& settings) {
  for (const std::string& wanted : settings.dns_names) {
    if (std::find(leaf.dns_names.begin(), leaf.dns_names.end(), wanted) == leaf.dns_names.end()) return wanted;
  }
  return {};
}

RotationPlan plan_for_foreign(const ServingSecret& secret, Clock::time_point now, const RotationSettings& settings) {
  Inspection found = inspect(secret.material, false);
  if (!found.pair_usable) {
    if (settings.replace_unusable) {
      return writing(Step::Replace, "made by someone else and unusable (" + found.problem +
                                        "); replacing it, as --serving-cert-replace-unusable allows",
                     fresh_material(settings, now));
    }
    return serving_as_is(Step::Unusable, "made by someone else and unusable: " + found.problem, {});
  }
  if (found.leaf->expired(now)) {
    return writing(Step::Replace, "made by someone else and its certificate expired; replacing it",
                   fresh_material(settings, now));
  }
  ServingMaterial serve = secret.material;
  std::string reason = "made by someone else: served as it is, never renewed by the adapter";
  if (found.authorities.empty()) {
    serve.ca_bundle_pem.clear();  // nothing to inject: the APIServices' caBundle is left to the operator
    reason += found.problem.empty() ? "; it has no ca.crt, so no caBundle is injected"
                                    : "; its ca.crt is unusable (" + found.problem + "), so no caBundle is injected";
  }
  return serving_as_is(Step::UseAsGiven, std::move(reason), serve);
}

}  // namespace

const char* step_name(Step step) {
  switch (step) {
    case Step::Keep: return "keep";
    case Step::UseAsGiven: return "use-as-given";
    case Step::Create: return "create";
    case Step::RenewServing: return "renew-serving";
    case Step::RotateAuthority: return "rotate-authority";
    case Step::RetirePrevious: return "retire-previous-authority";
    case Step::Replace: return "replace";
    case Step::Unusable: return "unusable";
  }
  return "unknown";
}

RotationPlan plan_rotation(const std::optional<ServingSecret>& secret, Clock::time_point now,
                           const RotationSettings& settings, bool signing_authority_trusted) {
  if (!secret) return writing(Step::Create, "the Secret does not exist", fresh_material(settings, now));
  if (!secret->made_by_adapter) return plan_for_foreign(*secret, now, settings);

  const ServingMaterial& current = secret->material;
  Inspection found = inspect(current, true);
  if (!found.problem.empty()) {
    if (settings.replace_unusable) {
      return writing(Step::Replace, "unusable (" + found.problem + "); replacing it, as --serving-cert-replace-unusable allows",
                     fresh_material(settings, now));
    }
    ServingMaterial serve = found.pair_usable ? current : ServingMaterial{};
    if (found.authorities.empty()) serve.ca_bundle_pem.clear();
    return serving_as_is(Step::Unusable, "unusable: " + found.problem, serve);
  }
  const CertificateFacts& signing = found.authorities.front();
  const CertificateFacts& leaf = *found.leaf;
  if (signing.expired(now)) {
    return writing(Step::Replace, "its authority expired; making a new authority and serving pair",
                   fresh_material(settings, now));
  }
  if (signing.life_used(now) >= kRenewAtLifeUsed) {
    tls::IssuedPair authority = new_authority(settings, now);
    ServingMaterial next = current;
    next.ca_bundle_pem = authority.certificate_pem + signing.pem;  // both trusted until the old one retires
    next.ca_key_pem = authority.private_key_pem;
    if (leaf.expired(now)) {
      tls::IssuedPair serving = new_serving_pair(authority, settings);
      next.certificate_pem = serving.certificate_pem;
      next.key_pem = serving.private_key_pem;
    }
    return writing(Step::RotateAuthority,
                   "two thirds of the authority's life have passed; a new authority, trusted beside the old one", next);
  }
  const bool from_signing = tls::issued_by(leaf.pem, signing.pem);
  if (leaf.expired(now)) return renew_serving(current, settings, "the serving certificate expired");
  if (!from_signing) {
    bool from_bundle = std::any_of(found.authorities.begin(), found.authorities.end(),
                                   [&leaf](const CertificateFacts& ca) { return tls::issued_by(leaf.pem, ca.pem); });
    if (!from_bundle) return renew_serving(current, settings, "the serving certificate was not issued by an authority in ca.crt");
    if (signing_authority_trusted) {
      return renew_serving(current, settings, "every APIService trusts the new authority; serving a pair it signed");
    }
    if (leaf.life_used(now) >= kRenewAtLifeUsed) {
      return renew_serving(current, settings, "two thirds of the serving certificate's life have passed");
    }
    return serving_as_is(Step::Keep, "waiting for every APIService to trust the new authority", current);
  }
  if (leaf.life_used(now) >= kRenewAtLifeUsed) {
    return renew_serving(current, settings, "two thirds of the serving certificate's life have passed");
  }
  if (std::string missing = missing_name(leaf, settings); !missing.empty()) {
    return renew_serving(current, settings, "the serving certificate lacks the name " + missing);
  }
  if (found.authorities.size() > 1) {
    bool previous_expired = std::any_of(found.authorities.begin() + 1, found.authorities.end(),
                                        [now](const CertificateFacts& ca) { return ca.expired(now); });
    if (previous_expired || now >= issued_at(leaf) + settings.retire_after) {
      ServingMaterial next = current;
      next.ca_bundle_pem = signing.pem;
      return writing(Step::RetirePrevious,
                     previous_expired ? "a previous authority expired"
                                      : "every replica has had time to load the pair from the new authority",
                     next);
    }
  }
  return serving_as_is(Step::Keep, "current", current);
}

}  // namespace sma::servingcert
