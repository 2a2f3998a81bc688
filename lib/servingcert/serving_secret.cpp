#include "lib/servingcert/serving_secret.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <stdexcept>

#include "lib/api/json_reading.h"
#include "lib/api/names.h"
#include "lib/kube/base64.h"

namespace sma::servingcert {
namespace {

using api::json_member;
using api::json_string;

std::string decoded_data(const rapidjson::Value& data, const char* key) {
  const rapidjson::Value* value = json_member(data, key);
  if (value == nullptr || value->IsNull()) return {};
  if (!value->IsString()) throw std::runtime_error(std::string("data.") + key + " is not a string");
  std::optional<std::string> decoded = kube::decode_base64(json_string(*value));
  if (!decoded) throw std::runtime_error(std::string("data.") + key + " is not base64");
  return *decoded;
}

template <typename Writer>
void write_string(Writer& writer, std::string_view text) {
  writer.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
}

}  // namespace

std::string SecretName::path() const { return collection() + "/" + name; }

std::string SecretName::collection() const { return "/api/v1/namespaces/" + namespace_ + "/secrets"; }

SecretName parse_secret_name(std::string_view text) {
  auto slash = text.find('/');
  if (slash == std::string_view::npos) {
    throw std::runtime_error("\"" + std::string(text) + "\" is not NAMESPACE/NAME");
  }
  SecretName name{std::string(text.substr(0, slash)), std::string(text.substr(slash + 1))};
  if (auto problem = api::check_namespace_name(name.namespace_)) throw std::runtime_error(*problem);
  if (auto problem = api::check_object_name(name.name)) throw std::runtime_error(*problem);
  return name;
}

ServingSecret read_serving_secret(std::string_view json) {
  rapidjson::Document document;
  document.Parse(json.data(), json.size());
  if (document.HasParseError() || !document.IsObject()) throw std::runtime_error("the answer is not a JSON object");
  const rapidjson::Value* kind = json_member(document, "kind");
  if (kind == nullptr || !kind->IsString() || json_string(*kind) != "Secret") {
    throw std::runtime_error("the answer is not a Secret");
  }
  ServingSecret secret;
  const rapidjson::Value* metadata = json_member(document, "metadata");
  if (metadata != nullptr && metadata->IsObject()) {
    const rapidjson::Value* version = json_member(*metadata, "resourceVersion");
    if (version != nullptr && version->IsString()) secret.resource_version = std::string(json_string(*version));
    const rapidjson::Value* labels = json_member(*metadata, "labels");
    const rapidjson::Value* managed_by =
        labels != nullptr && labels->IsObject() ? json_member(*labels, kManagedByLabel.data()) : nullptr;
    secret.made_by_adapter = managed_by != nullptr && managed_by->IsString() && json_string(*managed_by) == kManagedByValue;
  }
  if (const rapidjson::Value* type = json_member(document, "type"); type != nullptr && type->IsString()) {
    secret.type = std::string(json_string(*type));
  }
  const rapidjson::Value* data = json_member(document, "data");
  if (data != nullptr && data->IsObject()) {
    secret.material.ca_bundle_pem = decoded_data(*data, "ca.crt");
    secret.material.ca_key_pem = decoded_data(*data, "ca.key");
    secret.material.certificate_pem = decoded_data(*data, "tls.crt");
    secret.material.key_pem = decoded_data(*data, "tls.key");
  }
  return secret;
}

std::string write_serving_secret(const SecretName& name, const ServingMaterial& material,
                                 const std::string& resource_version, const std::string& type) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.StartObject();
  writer.Key("apiVersion");
  writer.String("v1");
  writer.Key("kind");
  writer.String("Secret");
  writer.Key("metadata");
  writer.StartObject();
  writer.Key("name");
  write_string(writer, name.name);
  writer.Key("namespace");
  write_string(writer, name.namespace_);
  if (!resource_version.empty()) {
    writer.Key("resourceVersion");
    write_string(writer, resource_version);
  }
  writer.Key("labels");
  writer.StartObject();
  write_string(writer, kManagedByLabel);
  write_string(writer, kManagedByValue);
  writer.EndObject();
  writer.EndObject();
  writer.Key("type");
  write_string(writer, type.empty() ? std::string_view("kubernetes.io/tls") : std::string_view(type));
  writer.Key("data");
  writer.StartObject();
  for (auto [key, value] : {std::pair{"ca.crt", &material.ca_bundle_pem}, std::pair{"ca.key", &material.ca_key_pem},
                            std::pair{"tls.crt", &material.certificate_pem}, std::pair{"tls.key", &material.key_pem}}) {
    writer.Key(key);
    write_string(writer, kube::encode_base64(*value));
  }
  writer.EndObject();
  writer.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace sma::servingcert
