#include "lib/kube/pod_list.h"

#include <rapidjson/document.h>

#include "lib/kube/pod_object.h"

namespace sma::kube {
namespace {

using Value = rapidjson::Value;
constexpr const char* kWhat = "the API server's PodList";

[[noreturn]] void malformed(const std::string& what) {
  throw KubeError(KubeError::Kind::Invalid, std::string(kWhat) + " is malformed: " + what);
}

}  // namespace

PodListPage parse_pod_list(std::string_view body) {
  rapidjson::Document document;
  document.Parse(body.data(), body.size());
  if (document.HasParseError()) malformed("not JSON");
  if (!document.IsObject()) malformed("not a JSON object");

  PodListPage page;
  if (const Value* kind = json_member(document, "kind");
      kind != nullptr && (!kind->IsString() || json_text(*kind) != "PodList")) {
    malformed("kind is not PodList");
  }
  if (const Value* metadata = json_member(document, "metadata"); metadata != nullptr && metadata->IsObject()) {
    if (const Value* next = json_member(*metadata, "continue"); next != nullptr && next->IsString()) {
      page.continue_token = json_text(*next);
    }
    if (const Value* version = json_member(*metadata, "resourceVersion"); version != nullptr && version->IsString()) {
      page.resource_version = json_text(*version);
    }
  }
  const Value* items = json_member(document, "items");
  if (items == nullptr) {
    if (document.FindMember("items") == document.MemberEnd()) malformed("it has no items");
    return page;  // "items": null is an empty list
  }
  if (!items->IsArray()) malformed("items is not an array");
  std::size_t index = 0;
  for (const auto& item : items->GetArray()) {
    PodObject pod = read_pod_object(item, kWhat, "items[" + std::to_string(index++) + "]");
    if (!pod.finished) page.pods.push_back(std::move(pod.info));
  }
  return page;
}

}  // namespace sma::kube
