#include "lib/kube/pod_object.h"

#include "lib/api/json_reading.h"

namespace sma::kube {
namespace {

using Value = rapidjson::Value;

bool has_finished(const Value& pod) {
  const Value* status = json_member(pod, "status");
  if (status == nullptr || !status->IsObject()) return false;
  const Value* phase = json_member(*status, "phase");
  if (phase == nullptr || !phase->IsString()) return false;
  const std::string value = json_text(*phase);
  return value == "Succeeded" || value == "Failed";
}

}  // namespace

const Value* json_member(const Value& object, const char* name) {
  const Value* value = api::json_member(object, name);
  return value == nullptr || value->IsNull() ? nullptr : value;
}

std::string json_text(const Value& value) { return std::string(api::json_string(value)); }

PodObject read_pod_object(const Value& pod, const std::string& what, const std::string& where) {
  const auto malformed = [&](const std::string& problem) {
    throw KubeError(KubeError::Kind::Invalid, what + " is malformed: " + where + problem);
  };
  if (!pod.IsObject()) malformed(" is not an object");
  const Value* metadata = json_member(pod, "metadata");
  if (metadata == nullptr || !metadata->IsObject()) malformed(" has no metadata");
  const Value* name = json_member(*metadata, "name");
  if (name == nullptr || !name->IsString() || name->GetStringLength() == 0) malformed(".metadata.name is missing");
  PodObject object;
  object.info.name = json_text(*name);
  if (const Value* space = json_member(*metadata, "namespace")) {
    if (!space->IsString()) malformed(".metadata.namespace is not a string");
    object.info.namespace_ = json_text(*space);
  }
  if (const Value* labels = json_member(*metadata, "labels")) {
    if (!labels->IsObject()) malformed(".metadata.labels is not an object");
    for (const auto& label : labels->GetObject()) {
      if (!label.value.IsString()) malformed(".metadata.labels." + json_text(label.name) + " is not a string");
      object.info.labels.emplace(json_text(label.name), json_text(label.value));
    }
  }
  if (const Value* version = json_member(*metadata, "resourceVersion"); version != nullptr && version->IsString()) {
    object.resource_version = json_text(*version);
  }
  object.finished = has_finished(pod);
  return object;
}

}  // namespace sma::kube
