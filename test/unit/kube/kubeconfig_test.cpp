#include <catch2/catch.hpp>
#include <string>

#include "lib/kube/kube_client.h"
#include "test/unit/kube/scratch_directory.h"

using sma::kube::load_kubeconfig;
using sma::kube::testing::ScratchDirectory;

namespace {

// "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n" in base64.
constexpr const char* kPemBase64 =
    "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUIKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo=";
constexpr const char* kPem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

std::string config_with(const std::string& cluster, const std::string& user,
                        const std::string& extra = "") {
  return "apiVersion: v1\nkind: Config\ncurrent-context: main\n"
         "contexts:\n"
         "- name: main\n  context: {cluster: c1, user: u1}\n"
         "- name: other\n  context: {cluster: c2, user: u2}\n"
         "clusters:\n"
         "- name: c1\n  cluster:\n" +
         cluster +
         "- name: c2\n  cluster:\n    server: https://other.example:6443\n    "
         "insecure-skip-tls-verify: true\n"
         "users:\n"
         "- name: u1\n  user:\n" +
         user + "- name: u2\n  user:\n    token: other-token\n" + extra;
}

std::string load_error(const std::string& path, const std::string& context = "") {
  try {
    load_kubeconfig(path, context);
  } catch (const std::runtime_error& error) {
    return error.what();
  }
  FAIL("load_kubeconfig accepted the file");
  return {};
}

}  // namespace

TEST_CASE("the current context gives server, CA file relative to the kubeconfig, and token",
          "[kubeconfig]") {
  ScratchDirectory scratch;
  scratch.write("certs/ca.crt", kPem);
  const std::string path = scratch.write(
      "config",
      config_with(
          "    server: https://api.example:6443/\n    certificate-authority: certs/ca.crt\n",
          "    token: abc123\n"));

  const auto connection = load_kubeconfig(path);

  CHECK(connection.server == "https://api.example:6443");
  CHECK(connection.ca_file == scratch.path() + "/certs/ca.crt");
  CHECK(connection.ca_data_pem.empty());
  CHECK_FALSE(connection.insecure_skip_verify);
  CHECK(connection.token == "abc123");
  CHECK(connection.source == "kubeconfig " + path + " context main");
}

TEST_CASE("a named context wins over current-context", "[kubeconfig]") {
  ScratchDirectory scratch;
  const std::string path =
      scratch.write("config", config_with("    server: https://a:1\n", "    token: t\n"));
  const auto connection = load_kubeconfig(path, "other");
  CHECK(connection.server == "https://other.example:6443");
  CHECK(connection.insecure_skip_verify);
  CHECK(connection.token == "other-token");
}

TEST_CASE("inline data is decoded and wins over files, and tokenFile and client files resolve",
          "[kubeconfig]") {
  ScratchDirectory scratch;
  scratch.write("token", "file-token\n");
  scratch.write("client.crt", kPem);
  scratch.write("client.key", kPem);
  const std::string path = scratch.write(
      "config",
      config_with(
          std::string("    server: https://a:1\n    certificate-authority: missing-but-ignored\n"
                      "    certificate-authority-data: ") +
              kPemBase64 + "\n",
          "    tokenFile: token\n    client-certificate: client.crt\n    client-key: "
          "client.key\n"));
  const auto connection = load_kubeconfig(path);
  CHECK(connection.ca_data_pem == kPem);
  CHECK(connection.ca_file.empty());
  CHECK(connection.token_file == scratch.path() + "/token");
  CHECK(connection.client_cert_file == scratch.path() + "/client.crt");
  CHECK(connection.client_key_file == scratch.path() + "/client.key");
}

TEST_CASE("inline client certificate and key", "[kubeconfig]") {
  ScratchDirectory scratch;
  const std::string path = scratch.write(
      "config", config_with("    server: https://a:1\n",
                            std::string("    client-certificate-data: ") + kPemBase64 +
                                "\n    client-key-data: " + kPemBase64 + "\n"));
  const auto connection = load_kubeconfig(path);
  CHECK(connection.client_cert_data_pem == kPem);
  CHECK(connection.client_key_data_pem == kPem);
  CHECK(connection.token.empty());
}

TEST_CASE("unsupported authentication is refused by name", "[kubeconfig]") {
  ScratchDirectory scratch;
  for (const std::string user :
       {"    exec:\n      command: aws\n", "    auth-provider:\n      name: gcp\n",
        "    username: admin\n    password: secret\n"}) {
    INFO(user);
    const std::string path =
        scratch.write("config", config_with("    server: https://a:1\n", user));
    const std::string message = load_error(path);
    CHECK_THAT(message, Catch::Contains(path) && Catch::Contains("not supported") &&
                            Catch::Contains("user \"u1\""));
    CHECK_THAT(message, !Catch::Contains("secret"));
  }
}

TEST_CASE("every missing piece is named with the file", "[kubeconfig]") {
  ScratchDirectory scratch;
  struct Case {
    std::string text;
    std::string context;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {config_with("    insecure-skip-tls-verify: true\n", "    token: t\n"), "",
       "cluster \"c1\" has no \"server\""},
      {config_with("    server: https://a:1\n", "    token: t\n"), "nope",
       "no \"contexts\" entry named \"nope\""},
      {"apiVersion: v1\nclusters: []\n", "", "has no \"current-context\""},
      {"current-context: x\ncontexts:\n- name: x\n  context: {user: u}\n", "",
       "context \"x\" has no \"cluster\""},
      {"current-context: x\ncontexts:\n- name: x\n  context: {cluster: gone}\n", "",
       "no \"clusters\" entry named \"gone\""},
      {config_with("    server: https://a:1\n    certificate-authority: nowhere.crt\n",
                   "    token: t\n"),
       "", "\"certificate-authority\" file"},
      {config_with("    server: https://a:1\n",
                   "    client-certificate-data: " + std::string(kPemBase64) + "\n"),
       "", "no \"client-key\""},
      {config_with("    server: https://a:1\n    certificate-authority-data: '!!!'\n",
                   "    token: t\n"),
       "", "not a base64-encoded PEM"},
      {config_with("    server: https://a:1\n    proxy-url: http://proxy:3128\n", "    token: t\n"),
       "", "\"proxy-url\", which is not supported"},
      {config_with(std::string("    server: https://a:1\n    insecure-skip-tls-verify: true\n"
                               "    certificate-authority-data: ") +
                       kPemBase64 + "\n",
                   "    token: t\n"),
       "", "both a certificate authority and insecure-skip-tls-verify"},
      {"clusters: [unclosed\n", "", "not valid YAML"},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    const std::string path = scratch.write("config", c.text);
    CHECK_THAT(load_error(path, c.context),
               Catch::Contains("kubeconfig \"" + path + "\"") && Catch::Contains(c.expected));
  }
  CHECK_THAT(load_error(scratch.path() + "/absent"), Catch::Contains("cannot be read"));
}

TEST_CASE("a context without a user is anonymous", "[kubeconfig]") {
  ScratchDirectory scratch;
  const std::string path =
      scratch.write("config",
                    "current-context: anon\ncontexts:\n- name: anon\n  context:\n    cluster: c\n"
                    "clusters:\n- name: c\n  cluster:\n    server: https://a:1\n");
  const auto connection = load_kubeconfig(path);
  CHECK(connection.server == "https://a:1");
  CHECK(connection.token.empty());
  CHECK(connection.token_file.empty());
}
