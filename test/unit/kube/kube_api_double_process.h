// test/doubles/kube_api_double.py as a child process for the kube client tests: started on a free
// port with its own serving certificate, driven through its control API, stopped with SIGTERM.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "lib/http/http_fetcher.h"
#include "lib/kube/kube_client.h"

namespace sma::kube::testing {

class KubeApiDoubleProcess {
 public:
  static constexpr const char* kToken = "kube-test-token-5e1f";

  // Throws std::runtime_error when the double does not report its port within a few seconds.
  explicit KubeApiDoubleProcess(const std::string& token = kToken);
  ~KubeApiDoubleProcess();
  KubeApiDoubleProcess(const KubeApiDoubleProcess&) = delete;
  KubeApiDoubleProcess& operator=(const KubeApiDoubleProcess&) = delete;

  int port() const { return port_; }
  std::string server() const;  // "https://127.0.0.1:<port>"
  const std::string& ca_file() const { return ca_file_; }
  // Where a KubeClient finds this double: its server, its CA and kToken.
  KubeConnection connection() const;

  // A control API call (/_control/<path>); returns the answer body, throws unless it is 2xx.
  std::string control(const std::string& method, const std::string& path,
                      const std::string& body = "");
  void inject_fault(const std::string& fault_json) { control("POST", "faults", fault_json); }
  // The recorded API requests as JSON.
  std::string requests() { return control("GET", "requests"); }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  std::string ca_file_;
  std::unique_ptr<http::HttpFetcher> control_fetcher_;
};

}  // namespace sma::kube::testing
