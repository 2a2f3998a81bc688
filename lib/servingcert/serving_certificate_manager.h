// Keeps the served certificate in step with a Kubernetes Secret (--serving-cert-secret): makes the
// Secret when it is missing, renews and rotates what it holds (rotation_plan), serves its pair, and
// puts its authority into the APIServices' caBundle. Replicas share only the Secret: the API
// server's 409 on create and on a stale update decides every race, and the loser reads the winner.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "lib/kube/kube_client.h"
#include "lib/servingcert/rotation_plan.h"
#include "lib/servingcert/serving_secret.h"
#include "lib/telemetry/log.h"

namespace sma::servingcert {

struct ManagerOptions {
  SecretName secret;
  RotationSettings rotation;
  std::vector<std::string> apiservices;  // caBundle goes into these; empty: none
  std::chrono::milliseconds check_interval{std::chrono::minutes(1)};
  // After a failed check the next comes after this, doubling up to check_interval.
  std::chrono::milliseconds initial_backoff{std::chrono::seconds(1)};
};

class ServingCertificateManager {
 public:
  // Puts a pair in force for new connections; throws std::runtime_error when it does not load.
  using Installer = std::function<void(const std::string& certificate_pem, const std::string& key_pem)>;

  // `kube` must outlive the manager.
  ServingCertificateManager(kube::KubeClient& kube, ManagerOptions options, Installer install);
  ~ServingCertificateManager();
  ServingCertificateManager(const ServingCertificateManager&) = delete;
  ServingCertificateManager& operator=(const ServingCertificateManager&) = delete;

  // One check now: read (or make) the Secret, carry out what is due, serve the pair, inject the
  // authority. True when it ended without a failure. Never throws.
  bool check_now();
  // Checks every check_interval (sooner after a failure) on a thread of its own, until stop().
  void start();
  void stop();

  // Empty while a pair from the Secret is in force; otherwise why not, for /readyz.
  std::string readiness_problem() const;

 private:
  bool check_locked();
  void install_pair(const ServingMaterial& material);
  bool inject(const std::string& ca_bundle_pem);
  // Logs `message` unless the previous check logged the same `key`: a state that lasts is told
  // once, not every minute.
  void note(const std::string& key, const std::string& message, telemetry::LogLevel level);
  void run();

  kube::KubeClient& kube_;
  const ManagerOptions options_;
  const Installer install_;

  std::mutex check_mutex_;  // one check at a time
  std::string installed_certificate_;  // guarded by check_mutex_
  // The ca.crt every APIService was last seen to hold (guarded by check_mutex_).
  std::string confirmed_bundle_;
  std::set<std::string> notes_this_check_, notes_last_check_;  // guarded by check_mutex_

  mutable std::mutex state_mutex_;
  std::string readiness_problem_;  // guarded by state_mutex_
  bool stopping_ = false;          // guarded by state_mutex_
  bool last_check_ok_ = false;     // guarded by state_mutex_
  std::condition_variable wake_;
  std::thread thread_;
};

}  // namespace sma::servingcert
