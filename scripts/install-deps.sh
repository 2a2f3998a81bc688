#!/usr/bin/env bash
# Installs what the build, the tests and the demo need, from Debian bookworm packages.
# Usage: scripts/install-deps.sh [build|all]   (default all)
#   build  only what compiling the daemon needs (docker/Dockerfile's build stage uses this)
#   all    that plus everything the tests, fuzzing, benchmarks, the demo and the image test use
# Safe to run twice: packages already present are skipped by apt, and apt-get update runs only
# when something is missing. Needs root (or sudo).
set -euo pipefail
what="${1:-all}"

build_packages=(
  build-essential cmake ninja-build pkg-config
  libcpprest-dev                      # HTTP client; brings the Boost headers used by the server
  libssl-dev ca-certificates
  rapidjson-dev libyaml-cpp-dev prometheus-cpp-dev
  libre2-dev                          # RE2 for the rules' metricRegex/externalRegex
)
test_packages=(
  clang libclang-rt-14-dev            # the sanitizer and fuzz build
  catch2                              # unit tests
  openssl                             # the CLI: test certificates, an old TLS client
  python3 python3-yaml curl           # integration tests, the demo, the manifest checks (YAML)
  prometheus                          # a real Prometheus (and promtool) for the prometheus backend and monitoring tests
  python3-matplotlib                  # bench/plot_benchmark.py draws the benchmark picture (ctest bench:plot)
  nginx wrk                           # bench/: nginx is the reference server, wrk the load generator
  # test/image builds and runs the image. podman brings conmon, uidmap, iptables and the CNI
  # plugins as dependencies; runc is named because podman would otherwise pull crun, and runc is
  # the runtime that works on CI's machine. debootstrap makes the debian base images
  # (scripts/make-base-images.sh), since no registry is reachable.
  podman runc debootstrap
)

case "$what" in
  build) packages=("${build_packages[@]}") ;;
  all) packages=("${build_packages[@]}" "${test_packages[@]}") ;;
  *) echo "usage: $0 [build|all]" >&2; exit 2 ;;
esac

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# kubectl is a real client for the integration tests; Debian ships it as kubernetes-client.
if [[ "$what" == all ]] && ! command -v kubectl >/dev/null 2>&1; then missing+=(kubernetes-client); fi

if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing: ${missing[*]}"
  "${sudo_cmd[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
