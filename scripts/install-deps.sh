#!/usr/bin/env bash
# Installs everything the build, the tests and the demo need from Debian bookworm packages.
# Safe to run twice: packages already present are skipped by apt, and apt-get update runs only
# when something is missing. Needs root (or sudo).
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  clang libclang-rt-14-dev            # the sanitizer (and later fuzz) build
  libcpprest-dev                      # HTTP client; brings the Boost headers used by the server
  libssl-dev openssl ca-certificates
  rapidjson-dev libyaml-cpp-dev catch2 prometheus-cpp-dev
  python3 python3-yaml curl           # integration tests, the demo, the manifest checks (YAML)
  prometheus                          # a real Prometheus for the prometheus backend tests
  nginx wrk                           # bench/: nginx is the reference server, wrk the load generator
)

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# kubectl is a real client for the integration tests; Debian ships it as kubernetes-client.
if ! command -v kubectl >/dev/null 2>&1; then missing+=(kubernetes-client); fi

if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing: ${missing[*]}"
  "${sudo_cmd[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
