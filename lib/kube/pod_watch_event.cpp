#include "lib/kube/pod_watch_event.h"

#include <rapidjson/document.h>

namespace sma::kube {
namespace {

using Value = rapidjson::Value;
constexpr const char* kWhat = "a pod watch event";

[[noreturn]] void malformed(const std::string& what) {
  throw KubeError(KubeError::Kind::Invalid, std::string(kWhat) + " is malformed: " + what);
}

PodWatchEvent::Type event_type(const std::string& type) {
  if (type == "ADDED") return PodWatchEvent::Type::Added;
  if (type == "MODIFIED") return PodWatchEvent::Type::Modified;
  if (type == "DELETED") return PodWatchEvent::Type::Deleted;
  if (type == "BOOKMARK") return PodWatchEvent::Type::Bookmark;
  if (type == "ERROR") return PodWatchEvent::Type::Error;
  malformed("unknown type \"" + type + "\"");
}

void read_error(const Value& status, PodWatchEvent& event) {
  if (const Value* code = json_member(status, "code"); code != nullptr && code->IsInt()) {
    event.error_code = code->GetInt();
  }
  if (const Value* message = json_member(status, "message"); message != nullptr && message->IsString()) {
    event.error_message = json_text(*message);
  }
  if (event.error_code == 0) malformed("an ERROR without a Status code");
}

void read_bookmark(const Value& object, PodWatchEvent& event) {
  const Value* metadata = json_member(object, "metadata");
  const Value* version = metadata != nullptr && metadata->IsObject() ? json_member(*metadata, "resourceVersion") : nullptr;
  if (version == nullptr || !version->IsString() || version->GetStringLength() == 0) {
    malformed("a BOOKMARK without metadata.resourceVersion");
  }
  event.pod.resource_version = json_text(*version);
}

}  // namespace

PodWatchEvent parse_pod_watch_event(std::string_view line) {
  rapidjson::Document document;
  document.Parse(line.data(), line.size());
  if (document.HasParseError()) malformed("not JSON");
  if (!document.IsObject()) malformed("not a JSON object");
  const Value* type = json_member(document, "type");
  if (type == nullptr || !type->IsString()) malformed("no type");
  const Value* object = json_member(document, "object");
  if (object == nullptr || !object->IsObject()) malformed("no object");

  PodWatchEvent event;
  event.type = event_type(json_text(*type));
  switch (event.type) {
    case PodWatchEvent::Type::Error:
      read_error(*object, event);
      break;
    case PodWatchEvent::Type::Bookmark:
      read_bookmark(*object, event);
      break;
    default:
      event.pod = read_pod_object(*object, kWhat, "object");
      if (event.pod.resource_version.empty()) malformed("object.metadata.resourceVersion is missing");
  }
  return event;
}

}  // namespace sma::kube
