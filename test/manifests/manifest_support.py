"""Shared helpers for the manifest and Dockerfile checks (test_*.py in this directory).

The checks are static: kubectl's built-in kustomize renders the kustomizations offline, PyYAML
(Debian: python3-yaml, installed by scripts/install-deps.sh) reads the result, and the adapter's
own binary, when one is built, checks flags and the rules file. No cluster and no Docker.
"""
import functools
import json
import os
import re
import shutil
import subprocess
import sys
import unittest
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MANIFESTS = REPO / "manifests"

# Every kustomization in manifests/, by a short name.
KUSTOMIZATIONS = {
    "manifests": MANIFESTS,
    "base": MANIFESTS / "base",
    "dev": MANIFESTS / "overlays" / "dev",
    "servicemonitor": MANIFESTS / "overlays" / "servicemonitor",
    "cert-manager": MANIFESTS / "overlays" / "cert-manager",
    "user-logic": MANIFESTS / "overlays" / "user-logic",
    "examples": MANIFESTS / "examples",
}
# The renders that install the adapter itself.
ADAPTER_RENDERS = ("manifests", "dev", "servicemonitor", "cert-manager", "user-logic")

NAMESPACE = "custom-metrics"
APP = "sysdig-metrics-adapter"

# The kustomizations use inline patches with targets, generator behaviors and `labels`: kustomize
# v4.5 or newer, which kubectl embeds from 1.24 on (tested with 1.32 / kustomize v5.5). Debian
# bookworm's kubernetes-client is 1.20, with kustomize v2.0.3.
MIN_KUBECTL_MINOR = 24


def yaml_module():
    """PyYAML, or a failure that says how to get it (not a skip: install-deps.sh provides it)."""
    try:
        import yaml  # noqa: PLC0415
    except ImportError:
        raise AssertionError(
            "PyYAML is missing for " + sys.executable + ": install python3-yaml (scripts/install-deps.sh "
            "does) or `pip install pyyaml` for this interpreter") from None
    return yaml


@functools.lru_cache(maxsize=None)
def kubectl_problem():
    """Why kubectl cannot render the kustomizations here, or None when it can."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        return "kubectl is not installed, so the kustomizations cannot be rendered (install kubectl >= 1.%d)" % (
            MIN_KUBECTL_MINOR)
    try:
        out = subprocess.run([kubectl, "version", "--client", "-o", "json"], capture_output=True, text=True,
                             timeout=60, env=kubectl_env())
        client = json.loads(out.stdout)["clientVersion"]
        minor = int(re.match(r"\d+", client["minor"]).group(0))
        major = int(re.match(r"\d+", client["major"]).group(0))
    except (OSError, ValueError, KeyError, AttributeError, subprocess.TimeoutExpired) as e:
        return "cannot tell kubectl's version (%s): %s" % (kubectl, e)
    if (major, minor) < (1, MIN_KUBECTL_MINOR):
        return ("kubectl %s is too old for these kustomizations (its built-in kustomize lacks features they "
                "use); kubectl >= 1.%d is needed" % (client.get("gitVersion", "?"), MIN_KUBECTL_MINOR))
    return None


def kubectl_env():
    # Rendering is offline; a kubeconfig is never read, but keep whatever the caller has out of it.
    env = dict(os.environ)
    env["KUBECONFIG"] = os.devnull
    return env


def require_kubectl():
    problem = kubectl_problem()
    if problem is not None:
        raise unittest.SkipTest("SKIPPED: " + problem)


@functools.lru_cache(maxsize=None)
def render_text(name):
    """(stdout, stderr) of `kubectl kustomize` for one kustomization."""
    path = KUSTOMIZATIONS[name]
    proc = subprocess.run(["kubectl", "kustomize", str(path)], capture_output=True, text=True, timeout=120,
                          env=kubectl_env())
    if proc.returncode != 0:
        raise AssertionError("kubectl kustomize %s failed:\n%s" % (path.relative_to(REPO), proc.stderr))
    return proc.stdout, proc.stderr


@functools.lru_cache(maxsize=None)
def render(name):
    """The objects `kubectl kustomize` produces for one kustomization, as a tuple of dicts."""
    yaml = yaml_module()
    text, _ = render_text(name)
    return tuple(doc for doc in yaml.safe_load_all(text) if doc is not None)


def load_yaml_file(path):
    yaml = yaml_module()
    with open(path, encoding="utf-8") as f:
        return [doc for doc in yaml.safe_load_all(f) if doc is not None]


def objects(docs, kind, api_group=None):
    out = []
    for d in docs:
        if d.get("kind") != kind:
            continue
        if api_group is not None and group_of(d) != api_group:
            continue
        out.append(d)
    return out


def one(docs, kind, name=None, namespace=None):
    found = [d for d in objects(docs, kind)
             if (name is None or d["metadata"]["name"] == name)
             and (namespace is None or d["metadata"].get("namespace") == namespace)]
    if len(found) != 1:
        raise AssertionError("expected exactly one %s%s%s, found %d" % (
            kind, " " + name if name else "", " in " + namespace if namespace else "", len(found)))
    return found[0]


def group_of(doc):
    api_version = doc.get("apiVersion", "")
    return api_version.split("/")[0] if "/" in api_version else ""


def labels_match(selector_labels, labels):
    return all(labels.get(k) == v for k, v in (selector_labels or {}).items())


def external_secret_templates():
    """The Secrets the user creates (manifests/secrets/): {(namespace, name): object}."""
    out = {}
    for path in sorted((MANIFESTS / "secrets").glob("*.yaml")):
        for doc in load_yaml_file(path):
            out[(doc["metadata"].get("namespace"), doc["metadata"]["name"])] = doc
    return out


def cert_manager_secrets(docs):
    """The Secrets cert-manager Certificates of a render write: {(namespace, name): keys}."""
    return {(c["metadata"]["namespace"], c["spec"]["secretName"]): {"tls.crt", "tls.key", "ca.crt"}
            for c in objects(docs, "Certificate", "cert-manager.io")}


def secret_keys(secret):
    return set((secret.get("data") or {}).keys()) | set((secret.get("stringData") or {}).keys())


def adapter_binary():
    """The built adapter (ctest passes SMA_BINARY; else build/), or None."""
    candidate = os.environ.get("SMA_BINARY") or str(REPO / "build" / "sysdig-metrics-adapter")
    return candidate if os.path.isfile(candidate) and os.access(candidate, os.X_OK) else None


def require_binary():
    binary = adapter_binary()
    if binary is None:
        raise unittest.SkipTest("SKIPPED: no built sysdig-metrics-adapter (set SMA_BINARY or build build/)")
    return binary


def binary_env():
    """An environment without anything that would change what the binary does (no in-cluster
    config, no Sysdig settings from the caller)."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}


@functools.lru_cache(maxsize=None)
def adapter_flags():
    """Flag names the binary's --help lists."""
    binary = require_binary()
    out = subprocess.run([binary, "--help"], capture_output=True, text=True, timeout=30, env=binary_env())
    if out.returncode != 0:
        raise AssertionError("%s --help failed: %s" % (binary, out.stderr))
    return frozenset(re.findall(r"^\s+--([a-z0-9-]+)", out.stdout, re.MULTILINE))


def main():
    """Run this module's tests; exit 77 (ctest SKIP_RETURN_CODE) when every test was skipped."""
    module = sys.modules["__main__"]
    suite = unittest.defaultTestLoader.loadTestsFromModule(module)
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    if not result.wasSuccessful():
        sys.exit(1)
    if result.testsRun > 0 and len(result.skipped) == result.testsRun:
        reasons = sorted({reason for _, reason in result.skipped})
        print("all tests skipped: " + "; ".join(reasons), file=sys.stderr)
        sys.exit(77)
    sys.exit(0)
