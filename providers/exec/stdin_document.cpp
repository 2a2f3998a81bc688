#include "providers/exec/stdin_document.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdio>

namespace sma::providers::exec {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void string(Writer& w, const std::string& s) { w.String(s.data(), static_cast<rapidjson::SizeType>(s.size())); }

void field(Writer& w, const char* key, const std::string& value) {
  w.Key(key);
  string(w, value);
}

// A selector in both forms: the string the request carried (canonical) and metav1.LabelSelector's
// matchLabels / matchExpressions, so a script need not parse either.
void selector(Writer& w, const char* key, const api::LabelSelector& s) {
  w.Key(key);
  w.StartObject();
  field(w, "string", s.to_string());
  rapidjson::Document parts;
  const std::string json = s.to_json();
  parts.Parse(json.data(), json.size());
  if (parts.IsObject()) {
    for (auto& member : parts.GetObject()) {
      w.Key(member.name.GetString(), member.name.GetStringLength());
      member.value.Accept(w);
    }
  }
  w.EndObject();
}

void head(Writer& w, const char* kind, const std::string& rule, const std::string& metric, const std::string& ns) {
  w.StartObject();
  w.Key("version");
  w.Int(kStdinDocumentVersion);
  field(w, "kind", kind);
  field(w, "rule", rule);
  field(w, "metric", metric);
  field(w, "namespace", ns);
}

std::string text(const rapidjson::StringBuffer& buffer) { return {buffer.GetString(), buffer.GetSize()}; }

}  // namespace

std::string object_document(const ObjectQuery& q, const std::string& rule) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  head(w, "object", rule, q.metric, q.namespace_);
  field(w, "resource", q.resource.to_string());
  field(w, "name", q.name);
  selector(w, "metricSelector", q.metric_selector);
  w.EndObject();
  return text(buffer);
}

std::string selector_document(const SelectorQuery& q, const std::vector<std::string>& names, const std::string& rule) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  head(w, "selector", rule, q.metric, q.namespace_);
  field(w, "resource", q.resource.to_string());
  selector(w, "labelSelector", q.object_selector);
  if (!names.empty()) {
    w.Key("names");
    w.StartArray();
    for (const auto& name : names) string(w, name);
    w.EndArray();
  }
  selector(w, "metricSelector", q.metric_selector);
  w.EndObject();
  return text(buffer);
}

std::string external_document(const ExternalQuery& q, const std::string& rule) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  head(w, "external", rule, q.metric, q.namespace_);
  selector(w, "metricSelector", q.metric_selector);
  w.EndObject();
  return text(buffer);
}

std::string format_rfc3339_millis(api::Clock::time_point t) {
  std::string whole = api::format_rfc3339(t);  // "...:SSZ", truncated to the second
  auto since_epoch = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  long long millis = ((since_epoch % 1000) + 1000) % 1000;
  char fraction[8];
  std::snprintf(fraction, sizeof fraction, ".%03lld", millis);
  if (!whole.empty() && whole.back() == 'Z') whole.insert(whole.size() - 1, fraction);
  return whole;
}

std::string completed_document(const std::string& document, api::Clock::time_point deadline,
                               std::chrono::milliseconds timeout, const std::string& object_json,
                               const std::string& objects_json) {
  // The document is an object written above: its last byte is the closing brace.
  std::string out = document.substr(0, document.empty() ? 0 : document.size() - 1);
  out += ",\"deadline\":\"" + format_rfc3339_millis(deadline) + "\",\"timeoutMillis\":" + std::to_string(timeout.count());
  if (!object_json.empty()) out += ",\"object\":" + object_json;
  if (!objects_json.empty()) out += ",\"objects\":" + objects_json;
  out += '}';
  return out;
}

}  // namespace sma::providers::exec
