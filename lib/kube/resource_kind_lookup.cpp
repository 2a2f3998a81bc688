#include "lib/kube/resource_kind_lookup.h"

#include <rapidjson/document.h>

namespace sma::kube {
namespace {

constexpr std::chrono::seconds kRetryAfterFailure{30};

std::optional<rapidjson::Document> json(KubeClient& client, const std::string& path) {
  rapidjson::Document doc;
  std::string body = client.get_json(path);
  doc.Parse(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsObject()) return std::nullopt;
  return doc;
}

std::string string_at(const rapidjson::Value& object, const char* name) {
  auto it = object.FindMember(name);
  return it != object.MemberEnd() && it->value.IsString() ? std::string(it->value.GetString(), it->value.GetStringLength())
                                                         : std::string{};
}

}  // namespace

ResourceKindLookup::ResourceKindLookup(KubeClient& client, std::chrono::seconds ttl) : client_(client), ttl_(ttl) {}

std::optional<api::ResourceKind> ResourceKindLookup::lookup(const api::GroupResource& resource) {
  auto key = resource.to_string();
  auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(mutex_);
    auto it = cache_.find(key);
    if (it != cache_.end() && now < it->second.expires) return it->second.kind;
  }
  std::optional<api::ResourceKind> kind;
  bool reached = true;
  try {
    kind = discover(resource);
  } catch (const std::exception&) {
    reached = false;  // unreachable or refused: ask again soon
  }
  std::lock_guard lock(mutex_);
  cache_[key] = {kind, now + (reached ? ttl_ : kRetryAfterFailure)};
  return kind;
}

std::optional<api::ResourceKind> ResourceKindLookup::discover(const api::GroupResource& resource) {
  // The group's preferred version, then that version's resource list.
  std::string group_version = "v1";
  std::string list_path = "/api/v1";
  if (!resource.group.empty()) {
    auto group = json(client_, "/apis/" + resource.group);
    if (!group) return std::nullopt;
    auto preferred = group->FindMember("preferredVersion");
    if (preferred == group->MemberEnd() || !preferred->value.IsObject()) return std::nullopt;
    group_version = string_at(preferred->value, "groupVersion");
    if (group_version.empty()) return std::nullopt;
    list_path = "/apis/" + group_version;
  }
  auto list = json(client_, list_path);
  if (!list) return std::nullopt;
  auto resources = list->FindMember("resources");
  if (resources == list->MemberEnd() || !resources->value.IsArray()) return std::nullopt;
  for (const auto& r : resources->value.GetArray()) {
    if (!r.IsObject() || string_at(r, "name") != resource.resource) continue;
    auto namespaced = r.FindMember("namespaced");
    bool is_namespaced = namespaced == r.MemberEnd() || !namespaced->value.IsBool() || namespaced->value.GetBool();
    std::string kind = string_at(r, "kind");
    if (kind.empty()) return std::nullopt;
    return api::ResourceKind{kind, resource.group.empty() ? "/v1" : group_version, is_namespaced};
  }
  return std::nullopt;
}

}  // namespace sma::kube
