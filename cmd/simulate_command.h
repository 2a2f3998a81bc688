// `simulate`: what the HPA controller would decide for an HPA, from live values. Flags to objects
// only: the arithmetic is lib/hpa's, the values come from the kube-apiserver's metrics APIs
// (--source api) or from the adapter's own providers, exactly as the daemon answers
// (--source providers); docs/operator-tools.md.
#pragma once

#include <ostream>
#include <string>

#include "cmd/adapter_options.h"
#include "cmd/flag_set.h"

namespace sma::cmd {

struct SimulateOptions {
  std::string file;                // -f: the HPA from a YAML or JSON file
  std::string namespace_;          // with --name: the HPA in the cluster; with -f: overrides the file's
  std::string name;
  std::string replicas;            // instead of the target's /scale
  std::string selector;            // the target's pod selector, when /scale cannot be read
  std::string output = "table";    // table | json
  std::string source;              // api | providers; default: api with a cluster, else providers
  std::string what_if;             // metric=value,...
  std::string tolerance = "0.1";   // --horizontal-pod-autoscaler-tolerance
  std::string metrics_kubeconfig;  // --source api: where the metrics APIs are read, when not the cluster's
  std::string kubernetes_version;  // whose arithmetic: "1.32"; default: the cluster's, else the newest modelled
};

void register_simulate_flags(FlagSet& flags, SimulateOptions& options);

// 0: computed from every metric. 1: a metric could not be read (or the HPA, its target or the
// pods could not be), with the reason on `err`; the report still goes to `out` when there is one.
// 2: usage errors.
int run_simulate(const AdapterOptions& adapter, const SimulateOptions& options, std::ostream& out, std::ostream& err);

}  // namespace sma::cmd
