#include "lib/servingcert/apiservice_ca_injection.h"

#include <rapidjson/document.h>

#include "lib/api/json_reading.h"
#include "lib/kube/base64.h"

namespace sma::servingcert {
namespace {

using api::json_member;
using api::json_string;

constexpr const char* kApiServices = "/apis/apiregistration.k8s.io/v1/apiservices/";

struct CurrentSpec {
  std::string ca_bundle;  // decoded
  bool insecure_skip = false;
};

CurrentSpec read_spec(const std::string& body) {
  rapidjson::Document document;
  document.Parse(body.data(), body.size());
  if (document.HasParseError() || !document.IsObject()) throw std::runtime_error("the answer is not a JSON object");
  CurrentSpec current;
  const rapidjson::Value* spec = json_member(document, "spec");
  if (spec == nullptr || !spec->IsObject()) return current;
  if (const rapidjson::Value* bundle = json_member(*spec, "caBundle"); bundle != nullptr && bundle->IsString()) {
    // A caBundle that is not base64 counts as different: it is overwritten.
    current.ca_bundle = kube::decode_base64(json_string(*bundle)).value_or("\x01");
  }
  if (const rapidjson::Value* skip = json_member(*spec, "insecureSkipTLSVerify"); skip != nullptr && skip->IsBool()) {
    current.insecure_skip = skip->GetBool();
  }
  return current;
}

InjectionOutcome inject_one(kube::KubeClient& kube, const std::string& name, const std::string& ca_bundle_pem) {
  InjectionOutcome outcome;
  outcome.apiservice = name;
  const std::string path = kApiServices + name;
  try {
    kube::KubeClient::Answer answer = kube.exchange("GET", path);
    if (answer.status == 404) {
      outcome.kind = InjectionOutcome::Kind::NotFound;
      outcome.detail = "APIService " + name + " does not exist";
      return outcome;
    }
    if (answer.status < 200 || answer.status >= 300) throw kube.error_for("GET", path, answer);
    CurrentSpec current = read_spec(answer.body);
    if (current.ca_bundle == ca_bundle_pem && !current.insecure_skip) {
      outcome.kind = InjectionOutcome::Kind::Unchanged;
      return outcome;
    }
    // Setting caBundle and unsetting insecureSkipTLSVerify in one patch: the API server refuses
    // an APIService that has both.
    std::string patch = "{\"spec\":{\"caBundle\":\"" + kube::encode_base64(ca_bundle_pem) + "\"";
    if (current.insecure_skip) patch += ",\"insecureSkipTLSVerify\":null";
    patch += "}}";
    answer = kube.exchange("PATCH", path, patch, "application/merge-patch+json");
    if (answer.status < 200 || answer.status >= 300) throw kube.error_for("PATCH", path, answer);
    outcome.kind = InjectionOutcome::Kind::Patched;
    outcome.cleared_insecure_skip = current.insecure_skip;
  } catch (const std::exception& e) {
    outcome.kind = InjectionOutcome::Kind::Failed;
    outcome.detail = e.what();
  }
  return outcome;
}

}  // namespace

const char* outcome_name(InjectionOutcome::Kind kind) {
  switch (kind) {
    case InjectionOutcome::Kind::Unchanged: return "unchanged";
    case InjectionOutcome::Kind::Patched: return "patched";
    case InjectionOutcome::Kind::NotFound: return "not_found";
    case InjectionOutcome::Kind::Failed: return "failed";
  }
  return "failed";
}

std::vector<InjectionOutcome> inject_ca_bundle(kube::KubeClient& kube, const std::vector<std::string>& apiservices,
                                               const std::string& ca_bundle_pem) {
  std::vector<InjectionOutcome> outcomes;
  for (const std::string& name : apiservices) outcomes.push_back(inject_one(kube, name, ca_bundle_pem));
  return outcomes;
}

}  // namespace sma::servingcert
