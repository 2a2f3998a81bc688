// Throwaway PKI for the TLS tests, made once per test process with the openssl command line in a
// private temporary directory: a CA, server certificates signed by it (one for 127.0.0.1, one
// for a different host name), and a client certificate for mutual TLS.
#pragma once

#include <string>

namespace sma::http::testing {

struct TestCertificates {
  std::string directory;
  std::string ca_file;
  std::string server_cert_file;  // SAN: localhost, 127.0.0.1
  std::string server_key_file;
  std::string wrong_host_cert_file;  // SAN: wrong.example only, same CA
  std::string wrong_host_key_file;
  std::string client_cert_file;
  std::string client_key_file;
};

// Throws std::runtime_error when openssl fails. The directory is removed at process exit.
const TestCertificates& test_certificates();

}  // namespace sma::http::testing
