// What to do with the serving certificate Secret at one look: keep it, serve it as given, make it,
// renew the serving pair, rotate the authority, retire the previous authority, or replace it.
// Decided from the Secret, the time and the settings alone, so every rule can be tested with
// made-up times; the new keys and certificates a step needs are made here too.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "lib/servingcert/serving_secret.h"
#include "lib/tls/certificate_facts.h"

namespace sma::servingcert {

struct RotationSettings {
  std::vector<std::string> dns_names;  // the serving certificate's names; the first is also its CN
  std::chrono::seconds serving_validity{std::chrono::hours(24 * 365)};
  std::chrono::seconds authority_validity{std::chrono::hours(24 * 3650)};
  // How long an authority being retired stays in ca.crt once the serving pair from the new one is
  // in the Secret: long enough for every replica to load the new pair (their checks come at least
  // this often).
  std::chrono::seconds retire_after{std::chrono::minutes(3)};
  // Replace a Secret whose certificates or keys cannot be used (bad PEM, a key not matching).
  bool replace_unusable = false;
};

// Renewals happen once this much of a certificate's life has passed.
inline constexpr double kRenewAtLifeUsed = 2.0 / 3.0;

enum class Step {
  Keep,           // ours and current: serve it
  UseAsGiven,     // made by someone else and valid: serve it, never rewrite it
  Create,         // no Secret: make an authority and a serving pair
  RenewServing,   // a new serving pair from the signing authority
  RotateAuthority,  // a new authority; the old one stays in ca.crt, the serving pair stays for now
  RetirePrevious,   // ca.crt down to the signing authority
  Replace,        // unusable (and allowed) or expired: a new authority and pair over it
  Unusable,       // unusable and not allowed to replace: serve its pair if that works, else nothing
};

const char* step_name(Step step);

struct RotationPlan {
  Step step = Step::Keep;
  std::string reason;  // one line for the log
  // Create, RenewServing, RotateAuthority, RetirePrevious, Replace: the material to store.
  std::optional<ServingMaterial> write;
  // The pair to serve once the step is done (after a successful write, or as it is); empty when
  // no usable pair exists (Unusable with a broken pair).
  ServingMaterial serve;
};

// `secret` is nullopt when the Secret does not exist. `signing_authority_trusted`: every APIService
// the adapter injects into already trusts the first authority of ca.crt (or there are none), so a
// serving pair from it may be put in use at once.
RotationPlan plan_rotation(const std::optional<ServingSecret>& secret, tls::Clock::time_point now,
                           const RotationSettings& settings, bool signing_authority_trusted);

}  // namespace sma::servingcert
