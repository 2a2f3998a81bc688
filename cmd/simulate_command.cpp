#include "cmd/simulate_command.h"

#include <charconv>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>

#include "cmd/backend_set.h"
#include "cmd/cluster_connection.h"
#include "cmd/operator_commands.h"
#include "lib/apiserver/api_handler.h"
#include "lib/hpa/cluster_reads.h"
#include "lib/hpa/report_writer.h"
#include "lib/hpa/what_if.h"

namespace sma::cmd {
namespace {

// The newest Kubernetes minor whose HPA arithmetic lib/hpa models (docs/operator-tools.md).
constexpr int kNewestModelledMinor = 35;

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

hpa::ApiGet kube_getter(kube::KubeClient& kube) {
  return [&kube](const std::string& path) {
    auto answer = kube.exchange("GET", path);
    return hpa::ApiAnswer{answer.status, std::move(answer.body)};
  };
}

std::int32_t parse_replicas(const std::string& text) {
  int value = -1;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value < 0) {
    throw UsageError("--replicas \"" + text + "\" is not a whole number of replicas");
  }
  return value;
}

double parse_tolerance(const std::string& text) {
  double value = -1;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value < 0) {
    throw UsageError("--horizontal-pod-autoscaler-tolerance \"" + text + "\" is not a non-negative number");
  }
  return value;
}

int parse_minor(const std::string& text) {
  std::string digits = text.rfind("1.", 0) == 0 ? text.substr(2) : text.rfind("v1.", 0) == 0 ? text.substr(3) : "";
  int minor = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), minor);
  if (digits.empty() || ec != std::errc{} || (end != digits.data() + digits.size() && *end != '.')) {
    throw UsageError("--kubernetes-version \"" + text + "\" is not a version such as 1.30");
  }
  return minor;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path == "-" ? "/dev/stdin" : path, std::ios::binary);
  if (!in) throw UsageError("cannot read " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Without a cluster: the pods named in the metric answers, plus stand-ins up to the replica
// count, all Running, Ready and started long ago.
std::vector<hpa::PodState> assumed_pods(const std::vector<hpa::MetricReading>& readings, std::int32_t replicas,
                                        const std::string& target) {
  std::set<std::string> names;
  for (const auto& reading : readings) {
    for (const auto& [name, value] : reading.pod_values) names.insert(name);
  }
  for (std::int32_t i = 1; static_cast<std::int32_t>(names.size()) < replicas; ++i) {
    names.insert(target + "-assumed-" + std::to_string(i));
  }
  std::vector<hpa::PodState> pods;
  for (const auto& name : names) {
    hpa::PodState pod;
    pod.name = name;
    pod.ready = true;
    pod.start_time = hpa::Clock::now() - std::chrono::hours(1);
    pod.ready_transition = pod.start_time;
    pods.push_back(pod);
  }
  return pods;
}

}  // namespace

void register_simulate_flags(FlagSet& flags, SimulateOptions& o) {
  flags.add_string("f", &o.file, "simulate: the HorizontalPodAutoscaler from this YAML or JSON file (- for stdin)");
  flags.add_string("filename", &o.file, "simulate: same as -f");
  flags.add_string("name", &o.name, "simulate: the HorizontalPodAutoscaler of this name, read from the cluster");
  flags.add_string("namespace", &o.namespace_, "simulate: the HPA's namespace (default: the file's, else default)");
  flags.add_string("replicas", &o.replicas, "simulate: current replicas, instead of reading the target's /scale");
  flags.add_string("selector", &o.selector, "simulate: the target's pod selector, instead of reading it from /scale");
  flags.add_string("o", &o.output, "simulate: table or json");
  flags.add_string("output", &o.output, "simulate: same as -o");
  flags.add_string("source", &o.source,
                   "simulate: where values come from: api (the cluster's metrics APIs, as the HPA reads them) or "
                   "providers (this adapter's rules and backends, as the daemon answers); default api with a "
                   "cluster, else providers");
  flags.add_string("what-if", &o.what_if, "simulate: metric=value,... replaces fetched values (e.g. queue.depth=900)");
  flags.add_string("horizontal-pod-autoscaler-tolerance", &o.tolerance,
                   "simulate: the controller's tolerance (kube-controller-manager flag of the same name)");
  flags.add_string("metrics-kubeconfig", &o.metrics_kubeconfig,
                   "simulate: with --source api, read the metrics APIs through this kubeconfig instead of the "
                   "cluster's (e.g. straight from an adapter)");
  flags.add_string("kubernetes-version", &o.kubernetes_version,
                   "simulate: follow this Kubernetes version's HPA arithmetic, e.g. 1.32 (default: the cluster's, "
                   "else 1." + std::to_string(kNewestModelledMinor) + ")");
}

int run_simulate(const AdapterOptions& adapter, const SimulateOptions& o, std::ostream& out, std::ostream& err) {
  const std::string prefix = "sysdig-metrics-adapter simulate: ";
  try {
    if (o.file.empty() == o.name.empty()) throw UsageError("give the HPA with -f FILE or with --name NAME (and --namespace)");
    if (o.output != "table" && o.output != "json") throw UsageError("-o must be table or json");
    if (!o.source.empty() && o.source != "api" && o.source != "providers") throw UsageError("--source must be api or providers");
    const double tolerance = parse_tolerance(o.tolerance);
    const auto what_if = hpa::parse_what_if(o.what_if);

    std::unique_ptr<kube::KubeClient> kube = connect_kubernetes(adapter);
    hpa::ApiGet cluster = kube ? kube_getter(*kube) : hpa::ApiGet{};
    if (!o.name.empty() && !cluster) {
      throw UsageError("--name reads the HPA from the cluster: give --kubeconfig (or run in a cluster), or use -f FILE");
    }

    // The HPA.
    hpa::HpaSpec spec;
    std::string ns = o.namespace_;
    if (!o.file.empty()) {
      spec = hpa::parse_hpa(read_file(o.file));
      if (ns.empty()) ns = spec.namespace_.empty() ? "default" : spec.namespace_;
    } else {
      if (ns.empty()) ns = kube->connection().own_namespace.empty() ? "default" : kube->connection().own_namespace;
      spec = hpa::read_cluster_hpa(cluster, ns, o.name);
    }
    spec.namespace_ = ns;
    const std::string target = spec.scale_target.kind + "/" + spec.scale_target.name;

    // Whose arithmetic.
    std::vector<std::string> assumptions;
    int minor = kNewestModelledMinor;
    if (!o.kubernetes_version.empty()) {
      minor = parse_minor(o.kubernetes_version);
    } else if (auto cluster_minor = cluster ? hpa::read_cluster_minor_version(cluster) : std::nullopt) {
      minor = *cluster_minor;
    } else {
      assumptions.push_back("Kubernetes version unknown: the arithmetic of 1." + std::to_string(minor) +
                            " (--kubernetes-version to choose)");
    }

    // The target's replicas and selector.
    std::int32_t spec_replicas = 0;
    std::int32_t status_replicas = 0;
    std::string selector = o.selector;
    if (!o.replicas.empty()) {
      spec_replicas = status_replicas = parse_replicas(o.replicas);
      if (selector.empty() && cluster) selector = hpa::read_cluster_scale(cluster, ns, spec.scale_target).selector;
    } else if (cluster) {
      auto scale = hpa::read_cluster_scale(cluster, ns, spec.scale_target);
      spec_replicas = scale.spec_replicas;
      status_replicas = scale.status_replicas;
      if (selector.empty()) selector = scale.selector;
    } else {
      throw UsageError("without a cluster the current replica count is unknown: give --replicas N (and --selector "
                       "for Pods and resource metrics)");
    }
    if (selector.empty()) {
      bool needs_pods = false;
      for (const auto& m : spec.metrics) needs_pods |= m.type != hpa::MetricType::Object && m.type != hpa::MetricType::External;
      if (cluster || needs_pods) {
        throw UsageError("the target's pod selector is unknown (its /scale has none): give --selector");
      }
    }

    // Where values come from.
    const std::string source = !o.source.empty() ? o.source : (cluster || !o.metrics_kubeconfig.empty()) ? "api" : "providers";
    std::unique_ptr<kube::KubeClient> metrics_kube;
    std::unique_ptr<BackendSet> backends;
    std::unique_ptr<apiserver::ApiHandler> handler;
    hpa::ApiGet metrics;
    std::string source_text;
    if (source == "api") {
      if (!o.metrics_kubeconfig.empty()) {
        metrics_kube = std::make_unique<kube::KubeClient>(kube::load_kubeconfig(o.metrics_kubeconfig));
        metrics = kube_getter(*metrics_kube);
        source_text = "api (" + metrics_kube->connection().server + ", --metrics-kubeconfig)";
      } else if (cluster) {
        metrics = cluster;
        source_text = "api (" + kube->connection().server + ")";
      } else {
        throw UsageError("--source api reads the cluster's metrics APIs: give --kubeconfig or --metrics-kubeconfig");
      }
    } else {
      AdapterOptions one_shot = adapter;
      one_shot.pod_watch = false;  // one question: list the pods once, start no watch
      backends = std::make_unique<BackendSet>(one_shot, kube.get());
      routing::RouteOptions routes;
      routes.legacy_workload_names = adapter.legacy_workload_names;
      handler = std::make_unique<apiserver::ApiHandler>(backends->provider(), backends->writer(), routes,
                                                         adapter.request_timeout);
      apiserver::ApiHandler* h = handler.get();
      metrics = [h](const std::string& path) {
        auto response = h->handle(api_get(path));
        return hpa::ApiAnswer{response.status, std::move(response.body)};
      };
      source_text = "providers (this adapter's rules; " + backends->describe() + ")";
    }

    // The pods the controller's lister holds.
    std::vector<hpa::PodState> pods;
    if (cluster && !selector.empty()) pods = hpa::read_cluster_pods(cluster, ns, selector);

    // The values: fetched, or from --what-if.
    std::vector<hpa::MetricReading> readings(spec.metrics.size());
    std::set<std::string> used_what_if;
    for (std::size_t i = 0; i < spec.metrics.size(); ++i) {
      const auto& m = spec.metrics[i];
      if (what_if.count(m.name)) continue;
      const bool resource = m.type == hpa::MetricType::Resource || m.type == hpa::MetricType::ContainerResource;
      if (resource && !cluster) {
        readings[i].not_simulated = true;
        readings[i].error = "resource metrics come from metrics.k8s.io, and no cluster was given: give --kubeconfig, "
                            "or the value with --what-if " + m.name + "=...";
        continue;
      }
      readings[i] = hpa::read_metric(resource ? cluster : metrics, ns, m, selector);
    }
    if (!cluster) {
      pods = assumed_pods(readings, spec_replicas, spec.scale_target.name);
      assumptions.push_back("no cluster: assumed " + std::to_string(pods.size()) +
                            " pods, all Running, Ready and started an hour ago (pods named in the answers, stand-ins "
                            "up to --replicas)");
    }
    for (std::size_t i = 0; i < spec.metrics.size(); ++i) {
      auto value = what_if.find(spec.metrics[i].name);
      if (value == what_if.end()) continue;
      readings[i] = hpa::what_if_reading(spec.metrics[i], value->second, pods);
      used_what_if.insert(value->first);
    }
    for (const auto& [name, value] : what_if) {
      if (!used_what_if.count(name)) throw UsageError("--what-if names \"" + name + "\", which is not a metric of the HPA");
    }

    hpa::SimulationInput input;
    input.hpa = spec;
    input.spec_replicas = spec_replicas;
    input.status_replicas = status_replicas;
    input.pods = std::move(pods);
    input.readings = std::move(readings);
    input.settings.scale_up_tolerance = input.settings.scale_down_tolerance = tolerance;
    input.settings.tolerance_test = minor >= 33 ? hpa::ToleranceTest::Range : hpa::ToleranceTest::AbsoluteDistance;
    input.settings.fallback_at_least_target = minor >= 26;
    input.settings.ignore_succeeded_pods = minor >= 38;
    input.per_hpa_tolerance = minor >= 33;
    input.assumptions = std::move(assumptions);
    const hpa::Decision decision = hpa::simulate(input);

    hpa::ReportContext context{source_text, target, "1." + std::to_string(minor)};
    out << (o.output == "json" ? hpa::write_json(decision, context) : hpa::write_table(decision, context));
    int failed = 0;
    for (const auto& m : decision.metrics) {
      if (!m.error.empty()) {
        err << prefix << hpa::metric_label(m.spec) << ": " << m.error << "\n";
        ++failed;
      }
    }
    if (failed > 0) {
      err << prefix << failed << " of " << decision.metrics.size() << " metrics could not be "
          << (decision.early_exit.empty() ? "computed" : "read") << "; "
          << (decision.held_by_failures ? "the controller would not scale"
                                        : "the controller would skip them and scale on the others")
          << "\n";
      return 1;
    }
    return 0;
  } catch (const UsageError& e) {
    err << prefix << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    err << prefix << e.what() << "\n";
    return 1;
  }
}

}  // namespace sma::cmd
