#include "lib/hpa/report_writer.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cstdio>
#include <sstream>

namespace sma::hpa {
namespace {

std::string target_text(const MetricSpec& m) {
  return m.target.text + " (" + target_type_name(m.target.type) + ")";
}

std::string current_text(const MetricOutcome& outcome) {
  if (!outcome.proposal) return "-";
  const Proposal& p = *outcome.proposal;
  if (p.current_utilization) return std::to_string(*p.current_utilization) + "% (" + quantity_text(p.current_milli) + ")";
  return quantity_text(p.current_milli);
}

std::string pad(const std::string& text, std::size_t width) {
  return text.size() >= width ? text + " " : text + std::string(width - text.size(), ' ');
}

std::string tolerance_line(const Decision& d) {
  char buffer[96];
  std::snprintf(buffer, sizeof buffer, "%g (up), %g (down)", d.scale_up_tolerance, d.scale_down_tolerance);
  return buffer;
}

std::string change_text(const Decision& d) {
  if (d.desired_replicas > d.current_replicas) return "scale up from " + std::to_string(d.current_replicas);
  if (d.desired_replicas < d.current_replicas) return "scale down from " + std::to_string(d.current_replicas);
  return "no change";
}

}  // namespace

std::string write_table(const Decision& d, const ReportContext& c) {
  std::ostringstream out;
  out << "HorizontalPodAutoscaler " << (d.namespace_.empty() ? "" : d.namespace_ + "/") << d.name << " -> "
      << c.scale_target << "\n";
  out << "current replicas " << d.current_replicas << ", min " << d.min_replicas << ", max " << d.max_replicas
      << ", tolerance " << tolerance_line(d) << "\n";
  out << "values from: " << c.source << "; arithmetic of Kubernetes " << c.kubernetes << "\n";
  if (!d.early_exit.empty()) {
    out << "\nthe controller does not read the metrics: " << d.early_exit << "\n";
    out << "\ndesired replicas: " << d.desired_replicas << " (" << change_text(d) << ")\n";
    return out.str();
  }
  std::size_t width = 6;
  for (const auto& m : d.metrics) width = std::max(width, metric_label(m.spec).size() + 2);
  out << "\n" << pad("METRIC", width) << pad("CURRENT", 16) << pad("TARGET", 22) << pad("RATIO", 9) << pad("PROPOSAL", 10)
      << "RULE\n";
  for (const auto& m : d.metrics) {
    out << pad(metric_label(m.spec), width) << pad(current_text(m), 16) << pad(target_text(m.spec), 22);
    if (m.proposal) {
      out << pad(ratio_text(m.proposal->adjusted_ratio.value_or(m.proposal->usage_ratio)), 9)
          << pad(std::to_string(m.proposal->replicas), 10) << m.proposal->rule << "\n";
      if (m.reading.what_if) out << "    value from --what-if\n";
      for (const auto& step : m.proposal->steps) out << "    " << step << "\n";
    } else {
      out << pad("-", 9) << pad("-", 10) << (m.reading.not_simulated ? "not simulated" : "FAILED") << "\n";
      out << "    " << m.error << "\n";
      if (!m.reading.not_simulated) {
        out << "    the controller skips this metric (FailedGet" << metric_type_name(m.spec.type) << "Metric)\n";
      }
    }
    if (!m.reading.path.empty()) out << "    asked: GET " << m.reading.path << "\n";
  }
  out << "\n";
  if (d.recommendation) {
    out << "recommendation: " << *d.recommendation;
    if (!d.deciding_metric.empty()) out << " (the highest proposal, from " << d.deciding_metric << ")";
    out << "\n";
  }
  if (d.limited) {
    for (const auto& step : d.limited->steps) out << "  " << step << "\n";
    out << "after minReplicas/maxReplicas and the rate limits: " << d.limited->replicas << " (" << d.limited->reason
        << ": " << d.limited->message << ")\n";
  }
  out << "desired replicas: " << d.desired_replicas << " (" << change_text(d) << ")\n";
  if (!d.stabilization.empty() || !d.notes.empty()) out << "\nnotes:\n";
  if (!d.stabilization.empty()) out << "  - " << d.stabilization << "\n";
  for (const auto& note : d.notes) out << "  - " << note << "\n";
  return out.str();
}

std::string write_json(const Decision& d, const ReportContext& c) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  auto string_list = [&w](const std::vector<std::string>& items) {
    w.StartArray();
    for (const auto& item : items) w.String(item.c_str());
    w.EndArray();
  };
  w.StartObject();
  w.Key("namespace"); w.String(d.namespace_.c_str());
  w.Key("name"); w.String(d.name.c_str());
  w.Key("scaleTarget"); w.String(c.scale_target.c_str());
  w.Key("source"); w.String(c.source.c_str());
  w.Key("kubernetesArithmetic"); w.String(c.kubernetes.c_str());
  w.Key("currentReplicas"); w.Int(d.current_replicas);
  w.Key("minReplicas"); w.Int(d.min_replicas);
  w.Key("maxReplicas"); w.Int(d.max_replicas);
  w.Key("tolerance");
  w.StartObject();
  w.Key("scaleUp"); w.Double(d.scale_up_tolerance);
  w.Key("scaleDown"); w.Double(d.scale_down_tolerance);
  w.EndObject();
  if (!d.early_exit.empty()) {
    w.Key("earlyExit"); w.String(d.early_exit.c_str());
  }
  w.Key("metrics");
  w.StartArray();
  for (const auto& m : d.metrics) {
    w.StartObject();
    w.Key("metric"); w.String(metric_label(m.spec).c_str());
    w.Key("type"); w.String(metric_type_name(m.spec.type));
    w.Key("name"); w.String(m.spec.name.c_str());
    w.Key("targetType"); w.String(target_type_name(m.spec.target.type));
    w.Key("target"); w.String(m.spec.target.text.c_str());
    if (!m.reading.path.empty()) {
      w.Key("path"); w.String(m.reading.path.c_str());
    }
    w.Key("whatIf"); w.Bool(m.reading.what_if);
    if (m.proposal) {
      const Proposal& p = *m.proposal;
      w.Key("current"); w.String(quantity_text(p.current_milli).c_str());
      if (p.current_utilization) {
        w.Key("currentUtilization"); w.Int(*p.current_utilization);
      }
      w.Key("ratio"); w.Double(p.usage_ratio);
      if (p.adjusted_ratio) {
        w.Key("adjustedRatio"); w.Double(*p.adjusted_ratio);
      }
      w.Key("proposal"); w.Int(p.replicas);
      w.Key("rule"); w.String(p.rule.c_str());
      w.Key("steps"); string_list(p.steps);
      w.Key("readyPods"); w.Int(p.ready_pods);
      w.Key("missingPods"); string_list(p.missing_pods);
      w.Key("unreadyPods"); string_list(p.unready_pods);
      w.Key("ignoredPods"); string_list(p.ignored_pods);
    } else {
      w.Key("error"); w.String(m.error.c_str());
      w.Key("notSimulated"); w.Bool(m.reading.not_simulated);
    }
    w.EndObject();
  }
  w.EndArray();
  w.Key("failedMetrics"); w.Int(d.failed_metrics);
  w.Key("heldByFailures"); w.Bool(d.held_by_failures);
  if (d.recommendation) {
    w.Key("recommendation"); w.Int(*d.recommendation);
    w.Key("decidingMetric"); w.String(d.deciding_metric.c_str());
  }
  if (d.limited) {
    w.Key("limits");
    w.StartObject();
    w.Key("replicas"); w.Int(d.limited->replicas);
    w.Key("reason"); w.String(d.limited->reason.c_str());
    w.Key("message"); w.String(d.limited->message.c_str());
    w.Key("steps"); string_list(d.limited->steps);
    w.EndObject();
  }
  w.Key("desiredReplicas"); w.Int(d.desired_replicas);
  if (!d.stabilization.empty()) {
    w.Key("stabilization"); w.String(d.stabilization.c_str());
  }
  w.Key("notes"); string_list(d.notes);
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize()) + "\n";
}

}  // namespace sma::hpa
