#include "lib/auth/authentication_settings.h"

#include <rapidjson/document.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace sma::auth {
namespace {

std::string read_file(const std::string& path, const char* flag) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + std::string(flag) + " " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// ConfigMap list values are JSON arrays of strings: ["X-Remote-User"].
std::vector<std::string> json_string_list(const std::string& text, const std::string& key) {
  rapidjson::Document doc;
  doc.Parse(text.data(), text.size());
  if (doc.HasParseError() || !doc.IsArray()) {
    throw std::runtime_error("ConfigMap key " + key + " is not a JSON list of strings");
  }
  std::vector<std::string> values;
  for (const auto& v : doc.GetArray()) {
    if (!v.IsString()) throw std::runtime_error("ConfigMap key " + key + " is not a JSON list of strings");
    values.emplace_back(v.GetString(), v.GetStringLength());
  }
  return values;
}

std::optional<std::string> lookup(const std::optional<std::map<std::string, std::string>>& data,
                                  const std::string& key) {
  if (!data) return std::nullopt;
  auto it = data->find(key);
  if (it == data->end() || it->second.empty()) return std::nullopt;
  return it->second;
}

// The flag's list, else the ConfigMap's, else the default already in place.
void resolve_list(const std::optional<std::vector<std::string>>& flag,
                  const std::optional<std::map<std::string, std::string>>& data, const std::string& key,
                  std::vector<std::string>& target) {
  if (flag) {
    target = *flag;
  } else if (auto text = lookup(data, key)) {
    target = json_string_list(*text, key);
  }
}

}  // namespace

std::map<std::string, std::string> configmap_data(const std::string& json) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject()) throw std::runtime_error("the authentication ConfigMap is not JSON");
  std::map<std::string, std::string> data;
  auto it = doc.FindMember("data");
  if (it == doc.MemberEnd() || !it->value.IsObject()) return data;
  for (const auto& kv : it->value.GetObject()) {
    if (kv.value.IsString()) {
      data[std::string(kv.name.GetString(), kv.name.GetStringLength())] =
          std::string(kv.value.GetString(), kv.value.GetStringLength());
    }
  }
  return data;
}

ResolvedAuthentication resolve_authentication(const AuthenticationFlags& flags,
                                              const std::optional<std::map<std::string, std::string>>& configmap) {
  ResolvedAuthentication resolved;
  auto& rh = resolved.request_header;

  if (flags.requestheader_client_ca_file) {
    rh.front_proxy_ca = std::make_shared<ClientCertificateVerifier>(
        read_file(*flags.requestheader_client_ca_file, "--requestheader-client-ca-file"),
        *flags.requestheader_client_ca_file);
    resolved.description += "front-proxy CA from " + *flags.requestheader_client_ca_file;
  } else if (auto pem = lookup(configmap, "requestheader-client-ca-file")) {
    rh.front_proxy_ca = std::make_shared<ClientCertificateVerifier>(*pem, "ConfigMap key requestheader-client-ca-file");
    resolved.description += "front-proxy CA from the extension-apiserver-authentication ConfigMap";
  }
  resolve_list(flags.requestheader_allowed_names, configmap, "requestheader-allowed-names", rh.allowed_names);
  resolve_list(flags.requestheader_username_headers, configmap, "requestheader-username-headers", rh.username_headers);
  resolve_list(flags.requestheader_group_headers, configmap, "requestheader-group-headers", rh.group_headers);
  resolve_list(flags.requestheader_extra_headers_prefix, configmap, "requestheader-extra-headers-prefix",
               rh.extra_header_prefixes);

  std::string client_source;
  if (flags.client_ca_file) {
    resolved.client_ca = std::make_shared<ClientCertificateVerifier>(read_file(*flags.client_ca_file, "--client-ca-file"),
                                                                     *flags.client_ca_file);
    client_source = *flags.client_ca_file;
  } else if (auto pem = lookup(configmap, "client-ca-file")) {
    resolved.client_ca = std::make_shared<ClientCertificateVerifier>(*pem, "ConfigMap key client-ca-file");
    client_source = "the extension-apiserver-authentication ConfigMap";
  }
  if (!client_source.empty()) {
    resolved.description += (resolved.description.empty() ? "" : "; ") + std::string("client CA from ") + client_source;
  }
  if (resolved.description.empty()) resolved.description = "no certificate authorities";
  return resolved;
}

}  // namespace sma::auth
