#include "lib/hpa/pod_state.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include "lib/api/json_reading.h"
#include "lib/api/quantity.h"
#include "lib/api/timestamp.h"
#include "lib/hpa/hpa_spec.h"

namespace sma::hpa {
namespace {

const rapidjson::Value* member(const rapidjson::Value& object, const char* name) {
  if (!object.IsObject()) return nullptr;
  const rapidjson::Value* value = api::json_member(object, name);
  return value == nullptr || value->IsNull() ? nullptr : value;
}

std::string text(const rapidjson::Value* value) {
  return value != nullptr && value->IsString() ? std::string(api::json_string(*value)) : std::string{};
}

std::optional<Clock::time_point> time_of(const rapidjson::Value* value, const std::string& where) {
  if (value == nullptr) return std::nullopt;
  auto parsed = value->IsString() ? api::parse_rfc3339(api::json_string(*value)) : std::nullopt;
  if (!parsed) throw HpaError("the pod list is malformed: " + where + " is not an RFC 3339 time");
  return parsed;
}

PodContainer read_container(const rapidjson::Value& container, const std::string& where) {
  PodContainer out;
  out.name = text(member(container, "name"));
  const rapidjson::Value* resources = member(container, "resources");
  const rapidjson::Value* requests = resources ? member(*resources, "requests") : nullptr;
  if (requests != nullptr && requests->IsObject()) {
    for (const auto& entry : requests->GetObject()) {
      auto quantity = entry.value.IsString() ? api::Quantity::parse(api::json_string(entry.value)) : std::nullopt;
      auto milli = quantity ? quantity->milli() : std::nullopt;
      if (!milli) throw HpaError("the pod list is malformed: " + where + " has a request that is not a quantity");
      out.requests_milli[std::string(api::json_string(entry.name))] = *milli;
    }
  }
  return out;
}

PodState read_pod(const rapidjson::Value& pod, const std::string& where) {
  PodState state;
  const rapidjson::Value* metadata = member(pod, "metadata");
  state.name = metadata ? text(member(*metadata, "name")) : "";
  if (state.name.empty()) throw HpaError("the pod list is malformed: " + where + " has no metadata.name");
  state.deleting = metadata != nullptr && member(*metadata, "deletionTimestamp") != nullptr;
  const rapidjson::Value* status = member(pod, "status");
  if (status != nullptr) {
    std::string phase = text(member(*status, "phase"));
    if (!phase.empty()) state.phase = phase;
    state.start_time = time_of(member(*status, "startTime"), where + ".status.startTime");
    if (const rapidjson::Value* conditions = member(*status, "conditions"); conditions && conditions->IsArray()) {
      for (const auto& condition : conditions->GetArray()) {
        if (text(member(condition, "type")) != "Ready") continue;
        state.ready = text(member(condition, "status")) == "True";
        state.ready_transition = time_of(member(condition, "lastTransitionTime"), where + " Ready condition");
      }
    }
  }
  if (const rapidjson::Value* spec = member(pod, "spec")) {
    if (const rapidjson::Value* containers = member(*spec, "containers"); containers && containers->IsArray()) {
      for (const auto& container : containers->GetArray()) state.containers.push_back(read_container(container, where));
    }
    if (const rapidjson::Value* init = member(*spec, "initContainers"); init && init->IsArray()) {
      for (const auto& container : init->GetArray()) {
        if (text(member(container, "restartPolicy")) == "Always") state.containers.push_back(read_container(container, where));
      }
    }
  }
  return state;
}

}  // namespace

std::vector<PodState> read_pod_list(std::string_view json) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseValidateEncodingFlag>(json.data(), json.size());
  if (doc.HasParseError()) {
    throw HpaError(std::string("the pod list is not JSON: ") + rapidjson::GetParseError_En(doc.GetParseError()));
  }
  const rapidjson::Value* items = member(doc, "items");
  if (items == nullptr) return {};
  if (!items->IsArray()) throw HpaError("the pod list is malformed: items is not an array");
  std::vector<PodState> pods;
  for (rapidjson::SizeType i = 0; i < items->Size(); ++i) {
    pods.push_back(read_pod((*items)[i], "items[" + std::to_string(i) + "]"));
  }
  return pods;
}

}  // namespace sma::hpa
