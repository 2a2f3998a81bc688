#include "lib/servingcert/serving_certificate_manager.h"

#include <algorithm>
#include <optional>

#include "lib/servingcert/apiservice_ca_injection.h"
#include "lib/telemetry/log.h"
#include "lib/telemetry/self_metrics.h"
#include "lib/tls/certificate_facts.h"

namespace sma::servingcert {
namespace {

using telemetry::SelfMetrics;

// Reads and writes within one check: make, inject, then serve a pair from a new authority takes
// three; a lost race adds one.
constexpr int kMaxRoundsPerCheck = 6;

bool is_success(int status) { return status >= 200 && status < 300; }

const char* outcome_of(int status) {
  if (is_success(status)) return "success";
  if (status == 409) return "conflict";
  if (status == 403 || status == 401) return "forbidden";
  return "error";
}

double unix_seconds(tls::Clock::time_point time) {
  return std::chrono::duration<double>(time.time_since_epoch()).count();
}

telemetry::LogLevel level_of(Step step) {
  switch (step) {
    case Step::Unusable: return telemetry::LogLevel::Error;
    case Step::Replace: return telemetry::LogLevel::Warning;
    case Step::Keep: return telemetry::LogLevel::Debug;
    default: return telemetry::LogLevel::Info;
  }
}

}  // namespace

ServingCertificateManager::ServingCertificateManager(kube::KubeClient& kube, ManagerOptions options, Installer install)
    : kube_(kube), options_(std::move(options)), install_(std::move(install)) {
  readiness_problem_ = "no serving certificate read from Secret " + options_.secret.text() + " yet";
}

ServingCertificateManager::~ServingCertificateManager() { stop(); }

std::string ServingCertificateManager::readiness_problem() const {
  std::lock_guard lock(state_mutex_);
  return readiness_problem_;
}

bool ServingCertificateManager::check_now() {
  std::lock_guard lock(check_mutex_);
  notes_last_check_.swap(notes_this_check_);
  notes_this_check_.clear();
  std::string failure;
  try {
    bool ok = check_locked();
    std::lock_guard state(state_mutex_);
    last_check_ok_ = ok;
    if (ok) return true;
    failure = "not every APIService's caBundle could be checked";
  } catch (const std::exception& e) {
    failure = e.what();
  }
  {
    std::lock_guard state(state_mutex_);
    last_check_ok_ = false;
  }
  const bool serving_secret_pair = !installed_certificate_.empty();
  if (!serving_secret_pair) {
    std::lock_guard state(state_mutex_);
    readiness_problem_ = "serving a self-signed certificate the aggregator cannot verify: " + failure;
  }
  note("failure:" + failure,
       serving_secret_pair ? "serving certificate check failed; the pair in force stays, retrying: " + failure
                           : "serving certificate check failed; SERVING A SELF-SIGNED CERTIFICATE the aggregator "
                             "cannot verify until it succeeds, retrying: " + failure,
       telemetry::LogLevel::Error);
  return false;
}

bool ServingCertificateManager::check_locked() {
  const SecretName& name = options_.secret;
  bool all_injected = true;
  bool again = true;
  for (int round = 0; again && round < kMaxRoundsPerCheck; ++round) {
    again = false;
    kube::KubeClient::Answer answer = kube_.exchange("GET", name.path());
    SelfMetrics::instance().serving_secret_operation("read", answer.status == 404 ? "not_found" : outcome_of(answer.status));
    std::optional<ServingSecret> secret;
    if (answer.status != 404) {
      if (!is_success(answer.status)) throw kube_.error_for("GET", name.path(), answer);
      secret = read_serving_secret(answer.body);
    }
    const bool trusted = options_.apiservices.empty() || (secret && secret->material.ca_bundle_pem == confirmed_bundle_);
    RotationPlan plan = plan_rotation(secret, tls::Clock::now(), options_.rotation, trusted);
    if (plan.step != Step::Keep || plan.reason != "current") {
      note(std::string("plan:") + step_name(plan.step) + plan.reason, "serving certificate Secret " + name.text() + ": " +
           plan.reason, level_of(plan.step));
    }
    if (plan.write) {
      const bool create = !secret;
      const std::string path = create ? name.collection() : name.path();
      const std::string body = create ? write_serving_secret(name, *plan.write)
                                      : write_serving_secret(name, *plan.write, secret->resource_version, secret->type);
      answer = kube_.exchange(create ? "POST" : "PUT", path, body);
      SelfMetrics::instance().serving_secret_operation(create ? "create" : "update", outcome_of(answer.status));
      if (answer.status == 409) {
        telemetry::log_info("serving certificate Secret changed by another replica first; reading its version",
                            {{"secret", name.text()}, {"step", step_name(plan.step)}});
        again = true;
        continue;
      }
      if (!is_success(answer.status)) throw kube_.error_for(create ? "POST" : "PUT", path, answer);
      telemetry::log_info("serving certificate Secret written",
                          {{"secret", name.text()}, {"step", step_name(plan.step)}, {"reason", plan.reason}});
      again = true;  // what was written may make the next step due
    }
    if (plan.serve.certificate_pem.empty()) {
      throw std::runtime_error("Secret " + name.text() + " is " + plan.reason +
                               " (delete it, or start with --serving-cert-replace-unusable, to have a new pair made)");
    }
    install_pair(plan.serve);
    if (!plan.serve.ca_bundle_pem.empty()) {
      const bool injected = inject(plan.serve.ca_bundle_pem);
      if (injected && confirmed_bundle_ != plan.serve.ca_bundle_pem) {
        confirmed_bundle_ = plan.serve.ca_bundle_pem;
        again = true;  // a pair from a new authority may be served now
      }
      all_injected = injected;
    }
  }
  {
    std::lock_guard state(state_mutex_);
    readiness_problem_.clear();
  }
  return all_injected;
}

void ServingCertificateManager::install_pair(const ServingMaterial& material) {
  if (!material.ca_bundle_pem.empty()) {
    SelfMetrics::instance().serving_certificate_authority(
        unix_seconds(tls::read_certificates(material.ca_bundle_pem).front().not_after));
  }
  if (material.certificate_pem == installed_certificate_) return;
  install_(material.certificate_pem, material.key_pem);
  installed_certificate_ = material.certificate_pem;
}

bool ServingCertificateManager::inject(const std::string& ca_bundle_pem) {
  bool all = true;
  for (const InjectionOutcome& outcome : inject_ca_bundle(kube_, options_.apiservices, ca_bundle_pem)) {
    SelfMetrics::instance().ca_injection(outcome.apiservice, outcome_name(outcome.kind));
    switch (outcome.kind) {
      case InjectionOutcome::Kind::Unchanged:
        break;
      case InjectionOutcome::Kind::Patched:
        telemetry::log_info("caBundle injected into APIService", {{"apiservice", outcome.apiservice}});
        if (outcome.cleared_insecure_skip) {
          telemetry::log_warning("APIService had insecureSkipTLSVerify: true; cleared it, the aggregator now "
                                 "verifies the adapter's certificate",
                                 {{"apiservice", outcome.apiservice}});
        }
        break;
      case InjectionOutcome::Kind::NotFound:
        // Nothing to trust the authority: not a reason to hold back a rotation.
        note("missing:" + outcome.apiservice, "APIService " + outcome.apiservice + " does not exist; no caBundle injected",
             telemetry::LogLevel::Warning);
        break;
      case InjectionOutcome::Kind::Failed:
        all = false;
        note("inject:" + outcome.apiservice + outcome.detail,
             "cannot inject caBundle into APIService " + outcome.apiservice + ": " + outcome.detail,
             telemetry::LogLevel::Error);
        break;
    }
  }
  return all;
}

void ServingCertificateManager::note(const std::string& key, const std::string& message, telemetry::LogLevel level) {
  bool told_before = notes_last_check_.count(key) > 0;
  if (!notes_this_check_.insert(key).second || told_before) return;
  telemetry::log(level, message, {{"secret", options_.secret.text()}});
}

void ServingCertificateManager::start() {
  std::lock_guard lock(state_mutex_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { run(); });
}

void ServingCertificateManager::stop() {
  {
    std::lock_guard lock(state_mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ServingCertificateManager::run() {
  std::chrono::milliseconds delay;
  {
    std::lock_guard lock(state_mutex_);
    delay = last_check_ok_ ? options_.check_interval : options_.initial_backoff;
  }
  for (;;) {
    {
      std::unique_lock lock(state_mutex_);
      if (wake_.wait_for(lock, delay, [this] { return stopping_; })) return;
    }
    if (check_now()) {
      delay = options_.check_interval;
    } else {
      // Failed: back off from initial_backoff, doubling, up to the interval.
      delay = delay >= options_.check_interval ? options_.initial_backoff
                                               : std::min(delay * 2, options_.check_interval);
    }
  }
}

}  // namespace sma::servingcert
