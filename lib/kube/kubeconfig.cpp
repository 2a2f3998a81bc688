// load_kubeconfig: the parts of a kubeconfig file (clientcmd v1 Config) that say where the API
// server is and how to authenticate with a token or a client certificate. Where both a file and
// inline data are given, the data wins, as client-go decides.
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "lib/kube/base64.h"
#include "lib/kube/kube_client.h"

namespace sma::kube {
namespace {

// Ways of authenticating that client-go supports and this client does not. Refusing them beats
// silently connecting as someone else (or as nobody).
constexpr const char* kUnsupportedUserKeys[] = {
    "exec", "auth-provider", "username", "password", "as", "as-uid", "as-groups", "as-user-extra"};
constexpr const char* kUnsupportedClusterKeys[] = {"proxy-url", "tls-server-name"};

class KubeconfigReader {
 public:
  explicit KubeconfigReader(std::string path)
      : path_(std::move(path)), directory_(std::filesystem::path(path_).parent_path()) {}

  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error("kubeconfig \"" + path_ + "\": " + what);
  }

  YAML::Node load() const {
    std::ifstream in(path_, std::ios::binary);
    if (!in) fail(std::string("cannot be read: ") + std::strerror(errno));
    std::ostringstream text;
    text << in.rdbuf();
    try {
      YAML::Node root = YAML::Load(text.str());
      if (!root.IsMap()) fail("is not a kubeconfig (expected a YAML mapping at the top)");
      return root;
    } catch (const YAML::Exception& error) {
      fail(std::string("is not valid YAML: ") + error.what());
    }
  }

  std::string scalar(const YAML::Node& parent, const std::string& key,
                     const std::string& where) const {
    const YAML::Node node = parent[key];
    if (!node || node.IsNull()) return {};
    if (!node.IsScalar()) fail(where + ": \"" + key + "\" must be a string");
    return node.as<std::string>();
  }

  std::string required_scalar(const YAML::Node& parent, const std::string& key,
                              const std::string& where) const {
    std::string value = scalar(parent, key, where);
    if (value.empty()) fail(where + " has no \"" + key + "\"");
    return value;
  }

  bool flag(const YAML::Node& parent, const std::string& key, const std::string& where) const {
    const YAML::Node node = parent[key];
    if (!node || node.IsNull()) return false;
    try {
      return node.as<bool>();
    } catch (const YAML::Exception&) {
      fail(where + ": \"" + key + "\" must be true or false");
    }
  }

  // The `field` mapping of the entry named `name` in the list `list` ("clusters", "cluster").
  YAML::Node named_entry(const YAML::Node& root, const std::string& list, const std::string& field,
                         const std::string& name) const {
    const YAML::Node entries = root[list];
    if (entries && entries.IsSequence()) {
      for (const auto& entry : entries) {
        if (entry.IsMap() && entry["name"] && entry["name"].IsScalar() &&
            entry["name"].as<std::string>() == name) {
          const YAML::Node body = entry[field];
          if (!body || body.IsNull()) return YAML::Node(YAML::NodeType::Map);
          if (!body.IsMap()) {
            fail(list + " entry \"" + name + "\": \"" + field + "\" must be a mapping");
          }
          return body;
        }
      }
    }
    fail("no \"" + list + "\" entry named \"" + name + "\"");
  }

  // Relative paths in a kubeconfig are relative to the file itself. The file must be readable now,
  // so a typo fails at start-up rather than at the first request.
  std::string readable_file(const std::string& value, const std::string& key,
                            const std::string& where) const {
    std::filesystem::path file(value);
    if (file.is_relative()) file = directory_ / file;
    if (!std::ifstream(file)) {
      fail(where + ": \"" + key + "\" file \"" + file.string() +
           "\" cannot be read: " + std::strerror(errno));
    }
    return file.string();
  }

  std::string inline_pem(const std::string& encoded, const std::string& key,
                         const std::string& where) const {
    const auto decoded = decode_base64(encoded);
    if (!decoded || decoded->find("-----BEGIN") == std::string::npos) {
      fail(where + ": \"" + key + "\" is not a base64-encoded PEM");
    }
    return *decoded;
  }

 private:
  std::string path_;
  std::filesystem::path directory_;
};

void read_cluster(const KubeconfigReader& reader, const YAML::Node& cluster,
                  const std::string& where, KubeConnection& connection) {
  for (const char* key : kUnsupportedClusterKeys) {
    if (cluster[key]) reader.fail(where + " sets \"" + key + "\", which is not supported");
  }
  connection.server = reader.required_scalar(cluster, "server", where);
  while (connection.server.size() > 1 && connection.server.back() == '/') {
    connection.server.pop_back();
  }
  connection.insecure_skip_verify = reader.flag(cluster, "insecure-skip-tls-verify", where);
  const std::string ca_data = reader.scalar(cluster, "certificate-authority-data", where);
  const std::string ca_file = reader.scalar(cluster, "certificate-authority", where);
  if (connection.insecure_skip_verify && (!ca_data.empty() || !ca_file.empty())) {
    reader.fail(where + " sets both a certificate authority and insecure-skip-tls-verify");
  }
  if (!ca_data.empty()) {
    connection.ca_data_pem = reader.inline_pem(ca_data, "certificate-authority-data", where);
  } else if (!ca_file.empty()) {
    connection.ca_file = reader.readable_file(ca_file, "certificate-authority", where);
  }
}

void read_user(const KubeconfigReader& reader, const YAML::Node& user, const std::string& where,
               KubeConnection& connection) {
  for (const char* key : kUnsupportedUserKeys) {
    if (user[key]) {
      reader.fail(
          where + " authenticates with \"" + key +
          "\", which is not supported; use token, tokenFile or client-certificate/client-key");
    }
  }
  connection.token = reader.scalar(user, "token", where);
  if (const std::string token_file = reader.scalar(user, "tokenFile", where); !token_file.empty()) {
    connection.token_file = reader.readable_file(token_file, "tokenFile", where);
  }

  const std::string cert_data = reader.scalar(user, "client-certificate-data", where);
  const std::string cert_file = reader.scalar(user, "client-certificate", where);
  const std::string key_data = reader.scalar(user, "client-key-data", where);
  const std::string key_file = reader.scalar(user, "client-key", where);
  const bool has_cert = !cert_data.empty() || !cert_file.empty();
  const bool has_key = !key_data.empty() || !key_file.empty();
  if (has_cert && !has_key) {
    reader.fail(where + " has a client certificate but no \"client-key\" or \"client-key-data\"");
  }
  if (has_key && !has_cert) {
    reader.fail(where +
                " has a client key but no \"client-certificate\" or \"client-certificate-data\"");
  }
  if (!cert_data.empty()) {
    connection.client_cert_data_pem =
        reader.inline_pem(cert_data, "client-certificate-data", where);
  } else if (!cert_file.empty()) {
    connection.client_cert_file = reader.readable_file(cert_file, "client-certificate", where);
  }
  if (!key_data.empty()) {
    connection.client_key_data_pem = reader.inline_pem(key_data, "client-key-data", where);
  } else if (!key_file.empty()) {
    connection.client_key_file = reader.readable_file(key_file, "client-key", where);
  }
}

}  // namespace

KubeConnection load_kubeconfig(const std::string& path, const std::string& context) {
  const KubeconfigReader reader(path);
  const YAML::Node root = reader.load();

  std::string context_name = context;
  if (context_name.empty()) context_name = reader.scalar(root, "current-context", "the file");
  if (context_name.empty()) reader.fail("has no \"current-context\"; name a context explicitly");

  const std::string context_where = "context \"" + context_name + "\"";
  const YAML::Node context_body = reader.named_entry(root, "contexts", "context", context_name);
  const std::string cluster_name = reader.required_scalar(context_body, "cluster", context_where);
  const std::string user_name = reader.scalar(context_body, "user", context_where);

  KubeConnection connection;
  connection.source = "kubeconfig " + path + " context " + context_name;
  connection.own_namespace = reader.scalar(context_body, "namespace", context_where);
  read_cluster(reader, reader.named_entry(root, "clusters", "cluster", cluster_name),
               "cluster \"" + cluster_name + "\"", connection);
  // A context without a user is anonymous access, which kubectl allows too.
  if (!user_name.empty()) {
    read_user(reader, reader.named_entry(root, "users", "user", user_name),
              "user \"" + user_name + "\"", connection);
  }
  return connection;
}

}  // namespace sma::kube
