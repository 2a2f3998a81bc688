#include "lib/hpa/scale_state.h"

#include <rapidjson/document.h>

#include <cctype>

#include "lib/api/json_reading.h"

namespace sma::hpa {
namespace {

struct KnownTarget {
  const char* kind;
  const char* group;
  const char* resource;
};

constexpr KnownTarget kKnownTargets[] = {
    {"Deployment", "apps", "deployments"},
    {"StatefulSet", "apps", "statefulsets"},
    {"ReplicaSet", "apps", "replicasets"},
    {"ReplicationController", "", "replicationcontrollers"},
};

std::int32_t replicas_of(const rapidjson::Value& object, const char* part) {
  auto section = object.FindMember(part);
  if (section == object.MemberEnd() || !section->value.IsObject()) return 0;
  auto replicas = section->value.FindMember("replicas");
  return replicas != section->value.MemberEnd() && replicas->value.IsInt() ? replicas->value.GetInt() : 0;
}

}  // namespace

ScaleState read_scale(std::string_view json) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject()) throw HpaError("the /scale answer is not a JSON object");
  const rapidjson::Value* kind = api::json_member(doc, "kind");
  if (kind == nullptr || !kind->IsString() || api::json_string(*kind) != "Scale") {
    throw HpaError("the /scale answer is not a Scale object");
  }
  ScaleState scale;
  scale.spec_replicas = replicas_of(doc, "spec");
  scale.status_replicas = replicas_of(doc, "status");
  auto status = doc.FindMember("status");
  if (status != doc.MemberEnd() && status->value.IsObject()) {
    const rapidjson::Value* selector = api::json_member(status->value, "selector");
    if (selector != nullptr && selector->IsString()) scale.selector = std::string(api::json_string(*selector));
  }
  return scale;
}

std::string resource_for_kind(const std::string& kind) {
  std::string lower;
  for (char c : kind) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "endpoints") return lower;
  if (!lower.empty() && lower.back() == 's') return lower + "es";
  if (lower.size() > 1 && lower.back() == 'y' && std::string("aeiou").find(lower[lower.size() - 2]) == std::string::npos) {
    return lower.substr(0, lower.size() - 1) + "ies";
  }
  return lower + "s";
}

std::string scale_path(const std::string& namespace_, const ObjectRef& target) {
  std::string group_version = target.api_version;
  std::string resource = resource_for_kind(target.kind);
  for (const auto& known : kKnownTargets) {
    if (target.kind == known.kind) {
      resource = known.resource;
      if (group_version.empty()) group_version = std::string(known.group).empty() ? "v1" : std::string(known.group) + "/v1";
    }
  }
  const bool core = group_version.find('/') == std::string::npos;
  return (core ? "/api/" : "/apis/") + group_version + "/namespaces/" + namespace_ + "/" + resource + "/" + target.name +
         "/scale";
}

}  // namespace sma::hpa
