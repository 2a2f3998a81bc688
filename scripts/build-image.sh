#!/usr/bin/env bash
# Builds docker/Dockerfile (context: the repository root) and prints the image id on stdout; the
# build's own output goes to stderr. Usage: scripts/build-image.sh [TAG] [more build options]
# (default TAG sysdig-metrics-adapter:dev). Uses docker when its engine answers (`docker info`; a
# docker client alone is not enough), else podman. CONTAINER_ENGINE=podman|docker forces one.
set -euo pipefail
cd "$(dirname "$0")/.."
tag="${1:-sysdig-metrics-adapter:dev}"
shift || true

engine="${CONTAINER_ENGINE:-}"
if [[ -z "$engine" ]]; then
  if docker info >/dev/null 2>&1; then engine=docker; else engine=podman; fi
fi
if [[ "$engine" == docker ]]; then
  docker build -f docker/Dockerfile -t "$tag" "$@" . >&2
  docker image inspect --format '{{.Id}}' "$tag"
  exit 0
fi
if ! command -v podman >/dev/null 2>&1; then
  echo "cannot build: no docker engine (docker info fails) and no podman" >&2
  exit 1
fi

# No registry to pull debian:bookworm(-slim) from: make them locally when missing.
scripts/make-base-images.sh >&2
# runc and cgroupfs: what works on a machine without systemd (CI's). chroot isolation and the
# host's network: RUN steps need no container runtime or network namespace that way. --pull=never:
# the base images are local. Layers are cached (podman's default), so an unchanged step is reused.
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
podman --runtime runc --cgroup-manager cgroupfs build --isolation chroot --network host --pull=never \
  -f docker/Dockerfile -t "$tag" "$@" . 2>&1 | tee "$log" >&2
# The build stage is tagged too (TAG-build): untagged, its last layer would be "dangling" to the
# prune below, which would then drop the whole stage's cache (toolchain install, compile). Its id is
# the last "--> ID" podman prints before the second stage starts.
stage="$(awk '/^\[2\/[0-9]+\] STEP 1\//{exit} /^--> /{id=$NF} END{print id}' "$log")"
if [[ -n "$stage" ]]; then podman tag "$stage" "$tag-build"; else echo "build stage not found: not kept" >&2; fi
# Each build leaves the previous build's untagged layers behind; drop every dangling image so the
# store does not grow without bound. Tagged images (these two, the base images) and their layers stay.
podman image prune -f >/dev/null
podman image inspect --format '{{.Id}}' "$tag"
