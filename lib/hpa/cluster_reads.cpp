#include "lib/hpa/cluster_reads.h"

#include <rapidjson/document.h>

#include <exception>

#include "lib/hpa/metric_answers.h"

namespace sma::hpa {
namespace {

ApiAnswer ask(const ApiGet& get, const std::string& path, const std::string& what) {
  try {
    return get(path);
  } catch (const std::exception& e) {
    throw HpaError("cannot read " + what + " from the Kubernetes API: " + e.what());
  }
}

std::string refusal(const ApiAnswer& answer) {
  auto message = status_message(answer.body);
  return std::to_string(answer.status) + (message && !message->empty() ? ": " + *message : "");
}

}  // namespace

HpaSpec read_cluster_hpa(const ApiGet& get, const std::string& ns, const std::string& name) {
  const std::string what = "HorizontalPodAutoscaler " + ns + "/" + name;
  for (const char* version : {"v2", "v2beta2"}) {
    ApiAnswer answer =
        ask(get, std::string("/apis/autoscaling/") + version + "/namespaces/" + ns + "/horizontalpodautoscalers/" + name, what);
    if (answer.status == 404) continue;
    if (answer.status < 200 || answer.status >= 300) throw HpaError("cannot read " + what + ": " + refusal(answer));
    HpaSpec hpa = parse_hpa(answer.body);
    if (hpa.namespace_.empty()) hpa.namespace_ = ns;
    return hpa;
  }
  throw HpaError(what + " not found (kubectl get hpa -n " + ns + " lists them)");
}

ScaleState read_cluster_scale(const ApiGet& get, const std::string& ns, const ObjectRef& target) {
  const std::string what = "the scale of " + target.kind + " " + ns + "/" + target.name;
  ApiAnswer answer = ask(get, scale_path(ns, target), what);
  if (answer.status == 404) throw HpaError(what + ": not found (the HPA's scaleTargetRef names no such object)");
  if (answer.status < 200 || answer.status >= 300) throw HpaError("cannot read " + what + ": " + refusal(answer));
  return read_scale(answer.body);
}

std::vector<PodState> read_cluster_pods(const ApiGet& get, const std::string& ns, const std::string& selector) {
  const std::string what = "the pods of selector \"" + selector + "\"";
  ApiAnswer answer = ask(get, "/api/v1/namespaces/" + ns + "/pods?labelSelector=" + query_escape(selector), what);
  if (answer.status < 200 || answer.status >= 300) throw HpaError("cannot list " + what + ": " + refusal(answer));
  return read_pod_list(answer.body);
}

std::optional<int> read_cluster_minor_version(const ApiGet& get) {
  ApiAnswer answer;
  try {
    answer = get("/version");
  } catch (const std::exception&) {
    return std::nullopt;
  }
  if (answer.status != 200) return std::nullopt;
  rapidjson::Document doc;
  doc.Parse(answer.body.data(), answer.body.size());
  if (doc.HasParseError() || !doc.IsObject()) return std::nullopt;
  auto minor = doc.FindMember("minor");
  if (minor == doc.MemberEnd() || !minor->value.IsString()) return std::nullopt;
  // "30", or "30+" on some distributions.
  int value = 0;
  bool any = false;
  for (const char* c = minor->value.GetString(); *c >= '0' && *c <= '9'; ++c) {
    value = value * 10 + (*c - '0');
    any = true;
  }
  return any ? std::optional<int>(value) : std::nullopt;
}

}  // namespace sma::hpa
