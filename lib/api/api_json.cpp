#include "lib/api/api_json.h"

#include <rapidjson/writer.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>

namespace sma::api {
namespace {

// rapidjson's output stream interface over the std::string that is returned: the document is
// written once, in place, instead of into a buffer that is then copied (a 10,000-pod answer is
// 2.3 MB).
class JsonText {
 public:
  using Ch = char;
  explicit JsonText(std::size_t expected_bytes = 0) { text.reserve(expected_bytes); }
  void Put(char c) { text.push_back(c); }
  void Flush() {}
  std::string text;
};

using Writer = rapidjson::Writer<JsonText>;

// What one item of a MetricValueList takes, about, so that a long list grows its text once.
constexpr std::size_t kBytesPerItem = 256;

void write_string(Writer& w, std::string_view s) { w.String(s.data(), static_cast<rapidjson::SizeType>(s.size())); }

void write_key(Writer& w, std::string_view k) { w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size())); }

// metav1.TypeMeta followed by an empty ListMeta, as every list document starts.
void write_list_header(Writer& w, std::string_view kind, std::string_view api_version) {
  write_key(w, "kind");
  write_string(w, kind);
  write_key(w, "apiVersion");
  write_string(w, api_version);
  write_key(w, "metadata");
  w.StartObject();
  w.EndObject();
}

// core/v1 ObjectReference: every field is omitempty.
void write_object_reference(Writer& w, const ObjectReference& ref) {
  w.StartObject();
  auto field = [&](std::string_view key, const std::string& value) {
    if (value.empty()) return;
    write_key(w, key);
    write_string(w, value);
  };
  field("kind", ref.kind);
  field("namespace", ref.namespace_);
  field("name", ref.name);
  field("apiVersion", ref.api_version);
  w.EndObject();
}

void write_selector(Writer& w, const LabelSelector* selector) {
  if (selector == nullptr || selector->empty()) {
    w.Null();
    return;
  }
  std::string json = selector->to_json();
  w.RawValue(json.data(), json.size(), rapidjson::kObjectType);
}

void write_labels(Writer& w, const Labels& labels) {
  w.StartObject();
  for (const auto& [k, v] : labels) {  // std::map iterates sorted, as Go marshals maps
    write_key(w, k);
    write_string(w, v);
  }
  w.EndObject();
}

void write_quantity(Writer& w, const Quantity& q) { write_string(w, q.to_string()); }

void write_group_version(Writer& w, std::string_view group, std::string_view version) {
  w.StartObject();
  write_key(w, "groupVersion");
  write_string(w, std::string(group) + "/" + std::string(version));
  write_key(w, "version");
  write_string(w, version);
  w.EndObject();
}

// metav1.APIGroup body (without TypeMeta): name, versions, preferredVersion.
void write_api_group_body(Writer& w, std::string_view group, const std::vector<std::string_view>& versions) {
  write_key(w, "name");
  write_string(w, group);
  write_key(w, "versions");
  w.StartArray();
  for (auto v : versions) write_group_version(w, group, v);
  w.EndArray();
  write_key(w, "preferredVersion");
  write_group_version(w, group, versions.front());
}

const std::vector<std::string_view>& custom_versions() {
  static const std::vector<std::string_view> versions = {"v1beta2", "v1beta1"};  // preferred first
  return versions;
}

const std::vector<std::string_view>& external_versions() {
  static const std::vector<std::string_view> versions = {"v1beta1"};
  return versions;
}

// metav1.APIResource: name, singularName (not omitempty), namespaced, kind, verbs.
void write_api_resource(Writer& w, const std::string& name, bool namespaced, std::string_view kind) {
  w.StartObject();
  write_key(w, "name");
  write_string(w, name);
  write_key(w, "singularName");
  write_string(w, "");
  write_key(w, "namespaced");
  w.Bool(namespaced);
  write_key(w, "kind");
  write_string(w, kind);
  write_key(w, "verbs");
  w.StartArray();
  write_string(w, "get");
  w.EndArray();
  w.EndObject();
}

void start_resource_list(Writer& w, std::string_view group, std::string_view version) {
  w.StartObject();
  write_key(w, "kind");
  write_string(w, "APIResourceList");
  write_key(w, "apiVersion");
  write_string(w, "v1");
  write_key(w, "groupVersion");
  write_string(w, std::string(group) + "/" + std::string(version));
  write_key(w, "resources");
  w.StartArray();
}

// Go's encoding/json escapes <, > and & (and U+2028/U+2029) inside strings and the encoder ends
// each document with a newline; Kubernetes answers carry both, so ours do too. Those bytes can only
// occur inside strings here, so rewriting the finished document is exact.
std::string finish(JsonText& out) {
  // The writer escapes control characters, so the text holds no NUL and strcspn (vectorised in
  // glibc) finds the few bytes to rewrite. Nearly every answer has none: it is returned as written.
  std::string& text = out.text;
  std::size_t at = std::strcspn(text.c_str(), "<>&\xE2");
  if (at == text.size()) {
    text += '\n';
    return std::move(text);
  }
  const char* raw = text.c_str();
  const std::size_t size = text.size();
  std::string rewritten;
  rewritten.reserve(size + 16);
  rewritten.append(raw, at);
  while (at < size) {
    const char c = raw[at];
    if (c == '\xE2') {
      const bool separator = at + 2 < size && raw[at + 1] == '\x80' && (raw[at + 2] == '\xA8' || raw[at + 2] == '\xA9');
      if (separator) {
        rewritten += raw[at + 2] == '\xA8' ? "\\u2028" : "\\u2029";
        at += 3;
      } else {
        rewritten += c;
        ++at;
      }
    } else {
      rewritten += c == '<' ? "\\u003c" : c == '>' ? "\\u003e" : "\\u0026";
      ++at;
    }
    const std::size_t plain = std::strcspn(raw + at, "<>&\xE2");
    rewritten.append(raw + at, std::min(plain, size - at));
    at += plain;
  }
  rewritten += '\n';
  return rewritten;
}

}  // namespace

std::string_view to_string(CustomApiVersion v) { return v == CustomApiVersion::V1Beta1 ? "v1beta1" : "v1beta2"; }

std::string write_metric_value_list(CustomApiVersion version, const std::vector<MetricValue>& items,
                                    const LabelSelector* metric_selector) {
  JsonText buffer(256 + items.size() * kBytesPerItem);
  Writer w(buffer);
  w.StartObject();
  write_list_header(w, "MetricValueList", std::string(kCustomMetricsGroup) + "/" + std::string(to_string(version)));
  write_key(w, "items");
  w.StartArray();
  // The items of one answer nearly always share one timestamp: format it once.
  std::optional<Clock::time_point> formatted_time;
  std::string formatted;
  for (const auto& item : items) {
    if (item.timestamp != formatted_time) {
      formatted_time = item.timestamp;
      formatted = format_rfc3339(item.timestamp);
    }
    w.StartObject();
    write_key(w, "describedObject");
    write_object_reference(w, item.described_object);
    if (version == CustomApiVersion::V1Beta1) {
      write_key(w, "metricName");
      write_string(w, item.metric_name);
    } else {
      write_key(w, "metric");
      w.StartObject();
      write_key(w, "name");
      write_string(w, item.metric_name);
      write_key(w, "selector");
      write_selector(w, metric_selector);
      w.EndObject();
    }
    write_key(w, "timestamp");
    write_string(w, formatted);
    if (item.window_seconds) {
      write_key(w, version == CustomApiVersion::V1Beta1 ? "window" : "windowSeconds");
      w.Int64(*item.window_seconds);
    }
    write_key(w, "value");
    write_quantity(w, item.value);
    if (version == CustomApiVersion::V1Beta1) {
      write_key(w, "selector");
      write_selector(w, metric_selector);
    }
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return finish(buffer);
}

std::string write_external_metric_value_list(const std::vector<ExternalMetricValue>& items) {
  JsonText buffer(256 + items.size() * kBytesPerItem);
  Writer w(buffer);
  w.StartObject();
  write_list_header(w, "ExternalMetricValueList", std::string(kExternalMetricsGroup) + "/v1beta1");
  write_key(w, "items");
  w.StartArray();
  for (const auto& item : items) {
    w.StartObject();
    write_key(w, "metricName");
    write_string(w, item.metric_name);
    write_key(w, "metricLabels");
    write_labels(w, item.metric_labels);
    write_key(w, "timestamp");
    write_string(w, format_rfc3339(item.timestamp));
    if (item.window_seconds) {
      write_key(w, "window");
      w.Int64(*item.window_seconds);
    }
    write_key(w, "value");
    write_quantity(w, item.value);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return finish(buffer);
}

std::string write_custom_resource_list(CustomApiVersion version, const std::vector<CustomMetricInfo>& metrics) {
  JsonText buffer;
  Writer w(buffer);
  start_resource_list(w, kCustomMetricsGroup, to_string(version));
  if (metrics.empty()) {
    write_api_resource(w, "*/*", true, "MetricValueList");
  }
  for (const auto& m : metrics) {
    write_api_resource(w, m.resource.to_string() + "/" + m.metric, m.namespaced, "MetricValueList");
  }
  w.EndArray();
  w.EndObject();
  return finish(buffer);
}

std::string write_external_resource_list(const std::vector<ExternalMetricInfo>& metrics) {
  JsonText buffer;
  Writer w(buffer);
  start_resource_list(w, kExternalMetricsGroup, "v1beta1");
  if (metrics.empty()) {
    write_api_resource(w, "*", true, "ExternalMetricValueList");
  }
  for (const auto& m : metrics) {
    write_api_resource(w, m.metric, true, "ExternalMetricValueList");
  }
  w.EndArray();
  w.EndObject();
  return finish(buffer);
}

namespace {
std::string write_api_group(std::string_view group, const std::vector<std::string_view>& versions) {
  JsonText buffer;
  Writer w(buffer);
  w.StartObject();
  write_key(w, "kind");
  write_string(w, "APIGroup");
  write_key(w, "apiVersion");
  write_string(w, "v1");
  write_api_group_body(w, group, versions);
  w.EndObject();
  return finish(buffer);
}
}  // namespace

std::string write_custom_api_group() { return write_api_group(kCustomMetricsGroup, custom_versions()); }

std::string write_external_api_group() { return write_api_group(kExternalMetricsGroup, external_versions()); }

std::string write_api_group_list() {
  JsonText buffer;
  Writer w(buffer);
  w.StartObject();
  write_key(w, "kind");
  write_string(w, "APIGroupList");
  write_key(w, "apiVersion");
  write_string(w, "v1");
  write_key(w, "groups");
  w.StartArray();
  w.StartObject();
  write_api_group_body(w, kCustomMetricsGroup, custom_versions());
  w.EndObject();
  w.StartObject();
  write_api_group_body(w, kExternalMetricsGroup, external_versions());
  w.EndObject();
  w.EndArray();
  w.EndObject();
  return finish(buffer);
}

std::string write_status(const Status& status) {
  JsonText buffer;
  Writer w(buffer);
  w.StartObject();
  write_list_header(w, "Status", "v1");
  write_key(w, "status");
  write_string(w, status.code >= 200 && status.code < 300 ? "Success" : "Failure");
  write_key(w, "message");
  write_string(w, status.message);
  write_key(w, "reason");
  write_string(w, status.reason);
  write_key(w, "code");
  w.Int(status.code);
  w.EndObject();
  return finish(buffer);
}

}  // namespace sma::api
