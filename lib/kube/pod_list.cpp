#include "lib/kube/pod_list.h"

#include <rapidjson/document.h>

namespace sma::kube {
namespace {

using Value = rapidjson::Value;

[[noreturn]] void malformed(const std::string& what) {
  throw KubeError(KubeError::Kind::Invalid, "the API server's PodList is malformed: " + what);
}

std::string text_of(const Value& value) {
  return std::string(value.GetString(), value.GetStringLength());
}

// The member `name` of `object` when it is present and not null.
const Value* member(const Value& object, const char* name) {
  const auto found = object.FindMember(name);
  if (found == object.MemberEnd() || found->value.IsNull()) return nullptr;
  return &found->value;
}

bool finished(const Value& pod) {
  const Value* status = member(pod, "status");
  if (status == nullptr || !status->IsObject()) return false;
  const Value* phase = member(*status, "phase");
  if (phase == nullptr || !phase->IsString()) return false;
  const std::string value = text_of(*phase);
  return value == "Succeeded" || value == "Failed";
}

PodInfo read_pod(const Value& pod, std::size_t index) {
  const std::string where = "items[" + std::to_string(index) + "]";
  if (!pod.IsObject()) malformed(where + " is not an object");
  const Value* metadata = member(pod, "metadata");
  if (metadata == nullptr || !metadata->IsObject()) malformed(where + " has no metadata");
  const Value* name = member(*metadata, "name");
  if (name == nullptr || !name->IsString() || name->GetStringLength() == 0) {
    malformed(where + ".metadata.name is missing");
  }
  PodInfo info;
  info.name = text_of(*name);
  if (const Value* labels = member(*metadata, "labels")) {
    if (!labels->IsObject()) malformed(where + ".metadata.labels is not an object");
    for (const auto& label : labels->GetObject()) {
      if (!label.value.IsString()) {
        malformed(where + ".metadata.labels." + text_of(label.name) + " is not a string");
      }
      info.labels.emplace(text_of(label.name), text_of(label.value));
    }
  }
  return info;
}

}  // namespace

PodListPage parse_pod_list(std::string_view body) {
  rapidjson::Document document;
  document.Parse(body.data(), body.size());
  if (document.HasParseError()) malformed("not JSON");
  if (!document.IsObject()) malformed("not a JSON object");

  PodListPage page;
  if (const Value* kind = member(document, "kind");
      kind != nullptr && (!kind->IsString() || text_of(*kind) != "PodList")) {
    malformed("kind is not PodList");
  }
  if (const Value* metadata = member(document, "metadata");
      metadata != nullptr && metadata->IsObject()) {
    if (const Value* next = member(*metadata, "continue"); next != nullptr && next->IsString()) {
      page.continue_token = text_of(*next);
    }
  }
  const Value* items = member(document, "items");
  if (items == nullptr) {
    if (document.FindMember("items") == document.MemberEnd()) malformed("it has no items");
    return page;  // "items": null is an empty list
  }
  if (!items->IsArray()) malformed("items is not an array");
  std::size_t index = 0;
  for (const auto& pod : items->GetArray()) {
    if (pod.IsObject() && finished(pod)) {
      ++index;
      continue;
    }
    page.pods.push_back(read_pod(pod, index++));
  }
  return page;
}

}  // namespace sma::kube
