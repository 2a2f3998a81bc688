#include "lib/auth/request_attributes.h"

#include <vector>

#include "lib/routing/url_decoding.h"

namespace sma::auth {
namespace {

std::string verb_for(std::string_view method, bool collection) {
  if (method == "GET" || method == "HEAD") return collection ? "list" : "get";
  if (method == "POST") return "create";
  if (method == "PUT") return "update";
  if (method == "PATCH") return "patch";
  if (method == "DELETE") return collection ? "deletecollection" : "delete";
  std::string lower;
  for (char c : method) lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return lower;
}

std::vector<std::string> split(std::string_view path) {
  std::vector<std::string> parts;
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  while (!path.empty()) {
    auto slash = path.find('/');
    parts.emplace_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return parts;
}

}  // namespace

std::string RequestAttributes::describe() const {
  if (!resource_request) return verb + " on path " + path;
  std::string what = verb + " " + (group.empty() ? "" : group + "/") + resource;
  if (!subresource.empty()) what += "/" + subresource;
  if (!name.empty()) what += " \"" + name + "\"";
  if (!namespace_.empty()) what += " in namespace " + namespace_;
  return what;
}

std::string RequestAttributes::cache_key() const {
  // Fields cannot contain NUL (decoding refuses it), so it separates them unambiguously.
  std::string key = resource_request ? "r" : "n";
  for (const auto* field : {&verb, &group, &version, &namespace_, &resource, &subresource, &name, &path}) {
    key += '\0';
    key += *field;
  }
  return key;
}

RequestAttributes request_attributes(std::string_view method, std::string_view target) {
  std::string_view raw_path = target.substr(0, target.find('?'));
  RequestAttributes a;
  a.path = std::string(raw_path.empty() ? "/" : raw_path);
  a.verb = verb_for(method, false);

  std::vector<std::string> parts;
  for (auto& segment : split(raw_path)) {
    auto decoded = routing::percent_decode(segment, false);
    if (!decoded) return a;  // not a path the API would accept: judged as a non-resource path
    parts.push_back(std::move(*decoded));
  }
  // /apis/<group>/<version>/<resource...>: anything shorter is discovery, a non-resource request.
  if (parts.size() < 4 || parts[0] != "apis") return a;
  a.resource_request = true;
  a.group = parts[1];
  a.version = parts[2];
  std::vector<std::string> rest(parts.begin() + 3, parts.end());
  if (rest.size() >= 2 && rest[0] == "namespaces") {
    a.namespace_ = rest[1];
    // namespaces/{ns}/{resource}/... is a resource inside the namespace; namespaces/{ns} (and its
    // status and finalize subresources) is the namespace object itself.
    if (rest.size() > 2 && rest[2] != "status" && rest[2] != "finalize") rest.erase(rest.begin(), rest.begin() + 2);
  }
  a.resource = rest[0];
  if (rest.size() >= 2) a.name = rest[1];
  if (rest.size() >= 3) a.subresource = rest[2];
  a.verb = verb_for(method, a.name.empty());
  return a;
}

}  // namespace sma::auth
