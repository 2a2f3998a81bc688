#include "lib/apiserver/request_kind.h"

#include <cstddef>

namespace sma::apiserver {
namespace {

bool starts_with(std::string_view text, std::string_view prefix) { return text.substr(0, prefix.size()) == prefix; }

std::size_t segments(std::string_view path) {
  std::size_t count = 0;
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '/' && i + 1 < path.size() && path[i + 1] != '/') ++count;
  }
  return count;
}

}  // namespace

RequestKind request_kind(std::string_view target) {
  std::string_view path = target.substr(0, target.find('?'));
  if (path == "/healthz" || path == "/livez" || path == "/readyz") return {"health", "none"};
  if (path == "/metrics") return {"metrics", "none"};
  if (starts_with(path, "/openapi/")) return {"openapi", "none"};
  if (starts_with(path, "/write-metrics/") || starts_with(path, "/write-external-metrics/")) return {"write", "none"};
  if (path == "/apis" || path == "/apis/") return {"discovery", "none"};
  for (std::string_view version : {"v1beta1", "v1beta2"}) {
    std::string_view prefix = version == "v1beta1" ? "/apis/custom.metrics.k8s.io/v1beta1" : "/apis/custom.metrics.k8s.io/v1beta2";
    if (starts_with(path, prefix)) {
      if (segments(path) <= 3) return {"discovery", version};
      bool star = path.find("/*/") != std::string_view::npos || path.find("/%2A/") != std::string_view::npos ||
                  path.find("/%2a/") != std::string_view::npos;
      return {star ? "selector" : "object", version};
    }
  }
  if (starts_with(path, "/apis/external.metrics.k8s.io/v1beta1")) {
    return {segments(path) <= 3 ? "discovery" : "external", "external.v1beta1"};
  }
  if (starts_with(path, "/apis/")) return {"discovery", "none"};
  return {"other", "none"};
}

}  // namespace sma::apiserver
