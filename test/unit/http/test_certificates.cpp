#include "test/unit/http/test_certificates.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace sma::http::testing {
namespace {

void run(const std::string& command) {
  if (std::system((command + " >/dev/null 2>&1").c_str()) != 0) {
    throw std::runtime_error("test certificates: command failed: " + command);
  }
}

void write_file(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

// A key and a certificate signed by the test CA, with the given extensions.
void issue(const TestCertificates& pki, const std::string& name, const std::string& extensions,
           std::string& cert_file, std::string& key_file) {
  const std::string base = pki.directory + "/" + name;
  cert_file = base + ".crt";
  key_file = base + ".key";
  write_file(base + ".ext", extensions);
  run("openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=" + name +
      " -keyout " + key_file + " -out " + base + ".csr");
  run("openssl x509 -req -in " + base + ".csr -CA " + pki.ca_file + " -CAkey " + pki.directory +
      "/ca.key -CAcreateserial -days 2 -extfile " + base + ".ext -out " + cert_file);
}

struct Pki {
  TestCertificates files;

  Pki() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "sma-http-test-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
      throw std::runtime_error("test certificates: mkdtemp failed");
    }
    files.directory = pattern;
    files.ca_file = files.directory + "/ca.crt";
    run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2"
        " -subj /CN=sma-test-ca -keyout " +
        files.directory + "/ca.key -out " + files.ca_file);
    issue(files, "server",
          "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
          files.server_cert_file, files.server_key_file);
    issue(files, "wrong-host", "subjectAltName=DNS:wrong.example\nextendedKeyUsage=serverAuth\n",
          files.wrong_host_cert_file, files.wrong_host_key_file);
    issue(files, "client", "extendedKeyUsage=clientAuth\n", files.client_cert_file,
          files.client_key_file);
  }

  ~Pki() {
    std::error_code ignored;
    std::filesystem::remove_all(files.directory, ignored);
  }
};

}  // namespace

const TestCertificates& test_certificates() {
  static const Pki pki;
  return pki.files;
}

}  // namespace sma::http::testing
