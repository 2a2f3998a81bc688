#include "lib/auth/kube_reviews.h"

#include <openssl/evp.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace sma::auth {
namespace {

constexpr std::size_t kMaxCachedReviews = 10000;

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void put(Writer& w, const char* key, const std::string& value) {
  w.Key(key);
  w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}

// The cache is keyed by a digest, so tokens are not kept in memory longer than a review needs.
std::string sha256(const std::string& text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(text.data(), text.size(), digest, &length, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<char*>(digest), length);
}

rapidjson::Document parse_answer(const std::string& body, const char* review) {
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("status") || !doc["status"].IsObject()) {
    throw ReviewUnavailable(std::string(review) + " answer has no status");
  }
  return doc;
}

std::string string_member(const rapidjson::Value& object, const char* name) {
  auto it = object.FindMember(name);
  if (it == object.MemberEnd() || !it->value.IsString()) return {};
  return {it->value.GetString(), it->value.GetStringLength()};
}

bool bool_member(const rapidjson::Value& object, const char* name) {
  auto it = object.FindMember(name);
  return it != object.MemberEnd() && it->value.IsBool() && it->value.GetBool();
}

std::string post_review(const KubePost& post, const std::string& path, const std::string& body, const char* review) {
  try {
    return post(path, body);
  } catch (const std::exception& e) {
    throw ReviewUnavailable(std::string(review) + " failed: " + e.what());
  }
}

}  // namespace

TokenReviewer::TokenReviewer(KubePost post, std::chrono::milliseconds cache_ttl)
    : post_(std::move(post)), cache_(cache_ttl, kMaxCachedReviews) {}

TokenReviewResult TokenReviewer::review(const std::string& token) {
  std::string key = sha256(token);
  if (auto cached = cache_.get(key)) return *cached;

  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  put(w, "apiVersion", "authentication.k8s.io/v1");
  put(w, "kind", "TokenReview");
  w.Key("spec");
  w.StartObject();
  put(w, "token", token);
  w.EndObject();
  w.EndObject();
  auto doc = parse_answer(post_review(post_, "/apis/authentication.k8s.io/v1/tokenreviews",
                                      std::string(buffer.GetString(), buffer.GetSize()), "TokenReview"),
                          "TokenReview");
  const auto& status = doc["status"];
  TokenReviewResult result;
  result.authenticated = bool_member(status, "authenticated");
  result.error = string_member(status, "error");
  auto user = status.FindMember("user");
  if (result.authenticated && user != status.MemberEnd() && user->value.IsObject()) {
    result.user.name = string_member(user->value, "username");
    auto groups = user->value.FindMember("groups");
    if (groups != user->value.MemberEnd() && groups->value.IsArray()) {
      for (const auto& g : groups->value.GetArray()) {
        if (g.IsString()) result.user.groups.emplace_back(g.GetString(), g.GetStringLength());
      }
    }
    auto extra = user->value.FindMember("extra");
    if (extra != user->value.MemberEnd() && extra->value.IsObject()) {
      for (const auto& kv : extra->value.GetObject()) {
        if (!kv.value.IsArray()) continue;
        auto& values = result.user.extra[std::string(kv.name.GetString(), kv.name.GetStringLength())];
        for (const auto& v : kv.value.GetArray()) {
          if (v.IsString()) values.emplace_back(v.GetString(), v.GetStringLength());
        }
      }
    }
  }
  if (result.authenticated && result.user.name.empty()) {
    result.authenticated = false;  // an identity without a name is no identity
    result.error = "the token review named no user";
  }
  cache_.put(key, result);
  return result;
}

AccessReviewer::AccessReviewer(KubePost post, std::chrono::milliseconds cache_ttl)
    : post_(std::move(post)), cache_(cache_ttl, kMaxCachedReviews) {}

AccessDecision AccessReviewer::review(const UserInfo& user, const RequestAttributes& a) {
  std::string key = user.name;
  for (const auto& g : user.groups) key += '\n' + g;
  for (const auto& [k, values] : user.extra) {
    key += "\n\n" + k;
    for (const auto& v : values) key += '\n' + v;
  }
  key += '\n' + a.cache_key();
  if (auto cached = cache_.get(key)) return *cached;

  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  put(w, "apiVersion", "authorization.k8s.io/v1");
  put(w, "kind", "SubjectAccessReview");
  w.Key("spec");
  w.StartObject();
  if (a.resource_request) {
    w.Key("resourceAttributes");
    w.StartObject();
    if (!a.namespace_.empty()) put(w, "namespace", a.namespace_);
    put(w, "verb", a.verb);
    put(w, "group", a.group);
    put(w, "version", a.version);
    put(w, "resource", a.resource);
    if (!a.subresource.empty()) put(w, "subresource", a.subresource);
    if (!a.name.empty()) put(w, "name", a.name);
    w.EndObject();
  } else {
    w.Key("nonResourceAttributes");
    w.StartObject();
    put(w, "path", a.path);
    put(w, "verb", a.verb);
    w.EndObject();
  }
  put(w, "user", user.name);
  w.Key("groups");
  w.StartArray();
  for (const auto& g : user.groups) w.String(g.data(), static_cast<rapidjson::SizeType>(g.size()));
  w.EndArray();
  if (!user.extra.empty()) {
    w.Key("extra");
    w.StartObject();
    for (const auto& [k, values] : user.extra) {
      w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
      w.StartArray();
      for (const auto& v : values) w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
      w.EndArray();
    }
    w.EndObject();
  }
  w.EndObject();
  w.EndObject();
  auto doc = parse_answer(post_review(post_, "/apis/authorization.k8s.io/v1/subjectaccessreviews",
                                      std::string(buffer.GetString(), buffer.GetSize()), "SubjectAccessReview"),
                          "SubjectAccessReview");
  const auto& status = doc["status"];
  AccessDecision decision;
  // "denied" short-circuits; "allowed" must be stated. Anything else is a denial.
  decision.allowed = bool_member(status, "allowed") && !bool_member(status, "denied");
  decision.reason = string_member(status, "reason");
  cache_.put(key, decision);
  return decision;
}

}  // namespace sma::auth
