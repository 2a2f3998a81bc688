#include "lib/hpa/simulation.h"

namespace sma::hpa {
namespace {

Proposal propose(const ReplicaCalculator& calc, const MetricSpec& m, const MetricReading& r, const SimulationInput& in) {
  switch (m.type) {
    case MetricType::Object:
      if (m.target.type == TargetType::AverageValue) return calc.object_average_value(in.status_replicas, r.object_milli, m.target.milli);
      return calc.object_value(in.spec_replicas, r.object_milli, m.target.milli, in.pods);
    case MetricType::External:
      if (m.target.type == TargetType::AverageValue) {
        return calc.external_average_value(in.status_replicas, r.external_milli, m.target.milli);
      }
      return calc.external_value(in.spec_replicas, r.external_milli, m.target.milli, in.pods);
    case MetricType::Pods:
      return calc.pod_average_value(in.spec_replicas, r.pod_values, m.target.milli, in.pods, "");
    case MetricType::Resource:
    case MetricType::ContainerResource:
      if (m.target.type == TargetType::Utilization) {
        return calc.resource_utilization(in.spec_replicas, r.pod_values, m.target.utilization, in.pods, m.name, m.container);
      }
      return calc.pod_average_value(in.spec_replicas, r.pod_values, m.target.milli, in.pods, m.name);
  }
  throw CalculationError("unknown metric type");
}

}  // namespace

std::string metric_label(const MetricSpec& m) {
  std::string label = std::string(metric_type_name(m.type)) + " ";
  if (m.type == MetricType::Object) label += m.described_object.kind + "/" + m.described_object.name + " ";
  label += m.name;
  if (m.type == MetricType::ContainerResource) label += " (container " + m.container + ")";
  if (!m.selector.empty()) label += "{" + m.selector + "}";
  return label;
}

Decision simulate(const SimulationInput& in) {
  Decision d;
  d.namespace_ = in.hpa.namespace_;
  d.name = in.hpa.name;
  d.current_replicas = in.spec_replicas;
  d.min_replicas = in.hpa.min_replicas;
  d.max_replicas = in.hpa.max_replicas;
  d.notes = in.assumptions;

  CalculatorSettings settings = in.settings;
  if (in.per_hpa_tolerance && in.hpa.behavior) {
    if (in.hpa.behavior->scale_up.tolerance) settings.scale_up_tolerance = *in.hpa.behavior->scale_up.tolerance;
    if (in.hpa.behavior->scale_down.tolerance) settings.scale_down_tolerance = *in.hpa.behavior->scale_down.tolerance;
  } else if (!in.per_hpa_tolerance && in.hpa.behavior &&
             (in.hpa.behavior->scale_up.tolerance || in.hpa.behavior->scale_down.tolerance)) {
    d.notes.push_back("behavior tolerance ignored: the Kubernetes version simulated has no per-HPA tolerance");
  }
  d.scale_up_tolerance = settings.scale_up_tolerance;
  d.scale_down_tolerance = settings.scale_down_tolerance;
  const ReplicaCalculator calc(settings);

  for (std::size_t i = 0; i < in.hpa.metrics.size(); ++i) {
    MetricOutcome outcome;
    outcome.spec = in.hpa.metrics[i];
    if (i < in.readings.size()) outcome.reading = in.readings[i];
    d.metrics.push_back(std::move(outcome));
  }

  // The early exits of reconcileAutoscaler: no metric is looked at.
  const std::int32_t current = in.spec_replicas;
  if (current == 0 && in.hpa.min_replicas != 0) {
    d.early_exit = "scaling is disabled since the replica count of the target is zero";
    d.desired_replicas = 0;
    return d;
  }
  if (current > in.hpa.max_replicas) {
    d.early_exit = "Current number of replicas above Spec.MaxReplicas";
    d.desired_replicas = in.hpa.max_replicas;
    return d;
  }
  if (current < in.hpa.min_replicas) {
    d.early_exit = "Current number of replicas below Spec.MinReplicas";
    d.desired_replicas = in.hpa.min_replicas;
    return d;
  }

  // computeReplicasForMetrics: the largest proposal; a metric that fails is skipped.
  std::int32_t recommendation = 0;
  for (auto& outcome : d.metrics) {
    if (outcome.reading.error) {
      outcome.error = *outcome.reading.error;
      ++d.failed_metrics;
      continue;
    }
    try {
      outcome.proposal = propose(calc, outcome.spec, outcome.reading, in);
    } catch (const CalculationError& e) {
      outcome.error = e.what();
      ++d.failed_metrics;
      continue;
    }
    if (recommendation == 0 || outcome.proposal->replicas > recommendation) {
      recommendation = outcome.proposal->replicas;
      d.deciding_metric = metric_label(outcome.spec);
    }
  }
  const auto metric_count = static_cast<std::int32_t>(d.metrics.size());
  if (d.failed_metrics >= metric_count || (d.failed_metrics > 0 && recommendation < current)) {
    d.held_by_failures = true;
    d.desired_replicas = current;
    if (d.failed_metrics < metric_count) d.recommendation = recommendation;
    d.notes.push_back(d.failed_metrics >= metric_count
                          ? "no metric could be computed: the controller does not scale (FailedComputeMetricsReplicas)"
                          : "a metric failed and the others would scale down: the controller does not scale down while "
                            "any metric fails");
    return d;
  }
  if (d.failed_metrics > 0) {
    d.notes.push_back("a metric failed: the controller scales on the others (it would only refuse a scale-down)");
  }
  d.recommendation = recommendation;
  d.limited = in.hpa.behavior
                  ? limit_with_behavior(current, recommendation, in.hpa.min_replicas, in.hpa.max_replicas, *in.hpa.behavior)
                  : limit_without_behavior(current, recommendation, in.hpa.min_replicas, in.hpa.max_replicas);
  d.desired_replicas = d.limited->replicas;
  d.stabilization = stabilization_note(in.hpa.behavior, current, d.desired_replicas, in.downscale_stabilization);
  return d;
}

}  // namespace sma::hpa
