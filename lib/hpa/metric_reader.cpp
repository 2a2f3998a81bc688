#include "lib/hpa/metric_reader.h"

#include <cctype>
#include <cstdio>
#include <exception>

#include "lib/hpa/metric_answers.h"
#include "lib/hpa/scale_state.h"

namespace sma::hpa {
namespace {

std::string with_query(std::string path, const std::vector<std::pair<std::string, std::string>>& params) {
  char separator = '?';
  for (const auto& [name, value] : params) {
    if (value.empty()) continue;
    path += separator + name + "=" + query_escape(value);
    separator = '&';
  }
  return path;
}

// "deployments.apps" for apps/v1 Deployment, "services" for v1 Service: the resource the custom
// metrics client names in the path.
std::string qualified_resource(const ObjectRef& object) {
  std::string resource = resource_for_kind(object.kind);
  auto slash = object.api_version.find('/');
  if (slash != std::string::npos && slash > 0) resource += "." + object.api_version.substr(0, slash);
  return resource;
}

std::string failure_text(const ApiAnswer& answer) {
  auto message = status_message(answer.body);
  std::string text = message && !message->empty() ? *message : answer.body.substr(0, 300);
  return "the API answered " + std::to_string(answer.status) + (text.empty() ? "" : ": " + text);
}

}  // namespace

std::string query_escape(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buffer[4];
      std::snprintf(buffer, sizeof buffer, "%%%02X", c);
      out += buffer;
    }
  }
  return out;
}

std::string metric_path(const std::string& ns, const MetricSpec& metric, const std::string& pod_selector) {
  const std::string custom = "/apis/custom.metrics.k8s.io/v1beta2/namespaces/" + ns + "/";
  switch (metric.type) {
    case MetricType::Object:
      if (metric.described_object.kind == "Namespace") {
        return with_query(custom + "metrics/" + metric.name, {{"metricLabelSelector", metric.selector}});
      }
      return with_query(custom + qualified_resource(metric.described_object) + "/" + metric.described_object.name + "/" +
                            metric.name,
                        {{"metricLabelSelector", metric.selector}});
    case MetricType::Pods:
      return with_query(custom + "pods/*/" + metric.name,
                        {{"labelSelector", pod_selector}, {"metricLabelSelector", metric.selector}});
    case MetricType::External:
      return with_query("/apis/external.metrics.k8s.io/v1beta1/namespaces/" + ns + "/" + metric.name,
                        {{"labelSelector", metric.selector}});
    case MetricType::Resource:
    case MetricType::ContainerResource:
      return with_query("/apis/metrics.k8s.io/v1beta1/namespaces/" + ns + "/pods", {{"labelSelector", pod_selector}});
  }
  return "";
}

MetricReading read_metric(const ApiGet& get, const std::string& ns, const MetricSpec& metric,
                          const std::string& pod_selector) {
  MetricReading reading;
  reading.path = metric_path(ns, metric, pod_selector);
  const bool resource = metric.type == MetricType::Resource || metric.type == MetricType::ContainerResource;
  ApiAnswer answer;
  try {
    answer = get(reading.path);
  } catch (const std::exception& e) {
    reading.error = std::string("no answer: ") + e.what();
    return reading;
  }
  if (resource && (answer.status == 404 || answer.status == 503)) {
    reading.not_simulated = true;
    reading.error = "the cluster does not serve metrics.k8s.io (" + failure_text(answer) +
                    "): install metrics-server, or give the value with --what-if " + metric.name + "=...";
    return reading;
  }
  if (answer.status < 200 || answer.status >= 300) {
    reading.error = failure_text(answer);
    return reading;
  }
  try {
    switch (metric.type) {
      case MetricType::Object: reading.object_milli = read_object_value(answer.body); break;
      case MetricType::Pods: reading.pod_values = read_pod_values(answer.body); break;
      case MetricType::External: reading.external_milli = read_external_values(answer.body); break;
      case MetricType::Resource:
      case MetricType::ContainerResource:
        reading.pod_values = read_resource_usage(answer.body, metric.name, metric.container);
        break;
    }
  } catch (const CalculationError& e) {
    reading.error = e.what();
  }
  return reading;
}

}  // namespace sma::hpa
