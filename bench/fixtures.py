"""The doubles' fixtures the benchmark generates at run time (formats: test/doubles/README.md).

- small_sysdig: 10 Deployments web-0..web-9 (3 pods each) in namespace `bench`: the 10 distinct object
  queries of the throughput, sync-wave and latency rows.
- big_sysdig: one series per pod for the 10,000 pods of namespace `big`.
- big_kube: those 10,000 pods, each shaped like a Deployment's pod as the API server lists it (labels,
  annotations, ownerReferences, managedFields, a container with resources and probes, the service-account
  volume, conditions and a container status), about 4 KB of JSON each: the adapter has to read whole pods,
  so a pod stripped to its name would flatter it.
- many_kube_pods, many_sysdig (rows 7, 7b): 1,000 namespaces team-0000.. of 20 pods (Deployment and Service `web`),
  one series per pod; huge_kube_pods, huge_sysdig (row 8): 100,000 pods in namespace `huge`; spread_sysdig (row 9):
  2,000 Services, each with 10 metrics nobody else has. Written when their row runs (write, write_pod_list).
"""
import json
import os
import re

CLUSTER = "bench"
SMALL_NAMESPACE = "bench"
BIG_NAMESPACE = "big"
METRIC = "net.http.request.count"
DEPLOYMENTS = [f"web-{i}" for i in range(10)]
PODS_PER_DEPLOYMENT = 3
BIG_POD_COUNT = 10_000
BIG_SELECTOR = "app=big"


def big_pod_name(i):
    return f"big-7f9c5d6b8-{i:05d}"


# Issue 11's rows (bench/scale_rows.py). Every pod is shaped as _pod() makes it (~4.3 KB of JSON).
MANY_NAMESPACES = 1000            # rows 7 and 7b: namespaces team-0000.., each with a Deployment and a Service web
PODS_PER_NAMESPACE = 20
MANY_APP = "web"
MANY_SELECTOR = "app=web"
MANY_HASH = "5d8f7c9b6"
HUGE_NAMESPACE = "huge"           # row 8: one namespace of 100,000 pods
HUGE_POD_COUNT = 100_000
HUGE_SELECTOR = "app=huge"
HUGE_HASH = "6b7c8d9f5"
SPREAD_NAMESPACES = 100           # row 9: 2,000 Services (20 per namespace), one HPA each on 10 metrics of its own
SPREAD_HPAS = 2000
SPREAD_METRICS_PER_HPA = 10


def many_namespace(n):
    return f"team-{n:04d}"


def many_pod_name(j):
    return f"{MANY_APP}-{MANY_HASH}-{j:05d}"


def huge_pod_name(i):
    return f"huge-{HUGE_HASH}-{i:06d}"


def spread_target(h):
    """(namespace, service) of row 9's HPA number h."""
    return f"apps-{h % SPREAD_NAMESPACES:02d}", f"svc-{h // SPREAD_NAMESPACES:02d}"


def spread_metric(h, k):
    """The k-th metric of HPA h: one nobody else asks for (the worst case: nothing shared, nothing merged)."""
    return f"app.h{h:04d}.m{k}"


def small_sysdig():
    series = []
    for d, deployment in enumerate(DEPLOYMENTS):
        for p in range(PODS_PER_DEPLOYMENT):
            series.append({"metric": METRIC,
                           "labels": {"kube_cluster_name": CLUSTER, "kube_namespace_name": SMALL_NAMESPACE,
                                      "kube_workload_type": "deployment", "kube_workload_name": deployment,
                                      "kube_deployment_name": deployment, "kube_pod_name": f"{deployment}-{p}",
                                      "app": deployment},
                           "value": 10 * d + p + 0.5})
    return {"series": series}


def big_sysdig():
    series = []
    for i in range(BIG_POD_COUNT):
        series.append({"metric": METRIC,
                       "labels": {"kube_cluster_name": CLUSTER, "kube_namespace_name": BIG_NAMESPACE,
                                  "kube_workload_type": "deployment", "kube_workload_name": "big",
                                  "kube_deployment_name": "big", "kube_pod_name": big_pod_name(i),
                                  "kube_node_name": f"node-{i % 50}", "app": "big"},
                       "value": (i % 1000) / 4 + 1})
    return {"series": series}


def _pod(i, name=None, namespace=BIG_NAMESPACE, app="big", template_hash="7f9c5d6b8"):
    """Pod number i (it picks the IP, node and container id) of Deployment `app` in `namespace`."""
    name = name or big_pod_name(i)
    node = f"node-{i % 50}"
    ip = f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"
    uid_owner = "6c1f2d3e-4a5b-4c6d-8e7f-90a1b2c3d4e5"
    time = "2026-01-01T00:00:00Z"
    return {
        "kind": "Pod", "apiVersion": "v1",
        "metadata": {
            "name": name, "generateName": f"{app}-{template_hash}-", "namespace": namespace,
            "labels": {"app": app, "pod-template-hash": template_hash, "tier": "frontend"},
            "annotations": {"kubectl.kubernetes.io/restartedAt": "2026-01-01T00:00:00Z"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": f"{app}-{template_hash}",
                                 "uid": uid_owner, "controller": True, "blockOwnerDeletion": True}],
            "managedFields": [
                {"manager": "kube-controller-manager", "operation": "Update", "apiVersion": "v1", "time": time,
                 "fieldsType": "FieldsV1", "fieldsV1": {
                     "f:metadata": {"f:annotations": {".": {}, "f:kubectl.kubernetes.io/restartedAt": {}},
                                    "f:generateName": {}, "f:labels": {".": {}, "f:app": {},
                                                                        "f:pod-template-hash": {}, "f:tier": {}},
                                    "f:ownerReferences": {".": {}, f'k:{{"uid":"{uid_owner}"}}': {}}},
                     "f:spec": {"f:containers": {'k:{"name":"web"}': {
                         ".": {}, "f:image": {}, "f:imagePullPolicy": {}, "f:name": {},
                         "f:ports": {".": {}, 'k:{"containerPort":8080,"protocol":"TCP"}': {
                             ".": {}, "f:containerPort": {}, "f:name": {}, "f:protocol": {}}},
                         "f:resources": {".": {}, "f:limits": {".": {}, "f:memory": {}},
                                         "f:requests": {".": {}, "f:cpu": {}, "f:memory": {}}}}},
                         "f:dnsPolicy": {}, "f:restartPolicy": {}, "f:schedulerName": {}}}},
                {"manager": "kubelet", "operation": "Update", "apiVersion": "v1", "time": time,
                 "fieldsType": "FieldsV1", "subresource": "status", "fieldsV1": {"f:status": {
                     "f:conditions": {'k:{"type":"Ready"}': {".": {}, "f:lastTransitionTime": {},
                                                             "f:status": {}, "f:type": {}}},
                     "f:containerStatuses": {}, "f:hostIP": {}, "f:phase": {}, "f:podIP": {},
                     "f:podIPs": {".": {}, f'k:{{"ip":"{ip}"}}': {".": {}, "f:ip": {}}},
                     "f:startTime": {}}}},
            ],
        },
        "spec": {
            "containers": [{
                "name": "web", "image": "registry.example.com/shop/web:1.42.0", "imagePullPolicy": "IfNotPresent",
                "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
                "env": [{"name": "LOG_LEVEL", "value": "info"}, {"name": "POD_NAME", "valueFrom": {
                    "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}}],
                "resources": {"limits": {"memory": "256Mi"}, "requests": {"cpu": "100m", "memory": "128Mi"}},
                "readinessProbe": {"httpGet": {"path": "/healthz", "port": 8080, "scheme": "HTTP"},
                                   "periodSeconds": 10, "timeoutSeconds": 1, "successThreshold": 1,
                                   "failureThreshold": 3},
                "volumeMounts": [{"name": "kube-api-access-x7k2p", "readOnly": True,
                                  "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"}],
                "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File"}],
            "volumes": [{"name": "kube-api-access-x7k2p", "projected": {"defaultMode": 420, "sources": [
                {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {
                    "apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}}]}}],
            "restartPolicy": "Always", "terminationGracePeriodSeconds": 30, "dnsPolicy": "ClusterFirst",
            "serviceAccountName": "default", "serviceAccount": "default", "nodeName": node,
            "securityContext": {}, "schedulerName": "default-scheduler", "priority": 0,
            "enableServiceLinks": True, "preemptionPolicy": "PreemptLowerPriority",
            "tolerations": [
                {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute",
                 "tolerationSeconds": 300},
                {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute",
                 "tolerationSeconds": 300}],
        },
        "status": {
            "phase": "Running",
            "conditions": [{"type": t, "status": "True", "lastProbeTime": None, "lastTransitionTime": time}
                           for t in ("Initialized", "Ready", "ContainersReady", "PodScheduled")],
            "hostIP": f"192.168.1.{i % 50 + 10}", "podIP": ip, "podIPs": [{"ip": ip}], "startTime": time,
            "containerStatuses": [{
                "name": "web", "state": {"running": {"startedAt": time}}, "lastState": {}, "ready": True,
                "restartCount": 0, "image": "registry.example.com/shop/web:1.42.0",
                "imageID": "registry.example.com/shop/web@sha256:" + "3f" * 32,
                "containerID": f"containerd://{i:064x}", "started": True}],
            "qosClass": "Burstable",
        },
    }


def big_kube():
    return {"kind": "List", "apiVersion": "v1", "metadata": {}, "items": [_pod(i) for i in range(BIG_POD_COUNT)]}


class PodTexts:
    """_pod()'s JSON text (compact, as write() writes it) from a template filled in per pod: building and
    serialising 100,000 pod dicts takes about 50 s, filling the template about 1 s. Checked against _pod() for
    the first pods of every namespace it is asked for."""

    MARKERS = {"name": "zzNAMEzz", "namespace": "zzNSzz", "node": "zzNODEzz", "ip": "zzIPzz",
               "host": "zzHOSTzz", "container": "zzCIDzz"}

    def __init__(self, app, template_hash):
        self.app, self.template_hash = app, template_hash
        m = self.MARKERS
        pod = _pod(0, m["name"], m["namespace"], app, template_hash)
        text = json.dumps(pod, separators=(",", ":"))
        for key, marker in (("node", "node-0"), ("ip", "10.0.0.0"), ("host", "192.168.1.10"),
                            ("container", "0" * 64)):
            text = text.replace(marker, m[key])
        pattern = re.compile("|".join(m.values()))
        self.parts = pattern.split(text)
        self.order = [next(k for k, v in m.items() if v == found) for found in pattern.findall(text)]
        self.checked = set()

    def text(self, i, name, namespace):
        values = {"name": name, "namespace": namespace, "node": f"node-{i % 50}",
                  "ip": f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}", "host": f"192.168.1.{i % 50 + 10}",
                  "container": f"{i:064x}"}
        out = [self.parts[0]]
        for key, part in zip(self.order, self.parts[1:]):
            out.append(values[key])
            out.append(part)
        text = "".join(out)
        if namespace not in self.checked:
            self.checked.add(namespace)
            expected = json.dumps(_pod(i, name, namespace, self.app, self.template_hash), separators=(",", ":"))
            if text != expected:
                raise AssertionError(f"PodTexts differs from _pod() for {namespace}/{name}")
        return text


def write_pod_list(directory, name, pods):
    """A pod List fixture from (i, name, namespace, app, hash) tuples; the same bytes as write() of the dicts."""
    templates = {}
    path = os.path.join(directory, name + ".json")
    with open(path, "w", encoding="utf-8") as f:
        f.write('{"kind":"List","apiVersion":"v1","metadata":{},"items":[')
        for n, (i, pod_name, namespace, app, template_hash) in enumerate(pods):
            template = templates.get((app, template_hash))
            if template is None:
                template = templates[(app, template_hash)] = PodTexts(app, template_hash)
            if n:
                f.write(",")
            f.write(template.text(i, pod_name, namespace))
        f.write("]}")
    return path


def _pod_series(metric, namespace, pod, workload, node, value, service=None):
    labels = {"kube_cluster_name": CLUSTER, "kube_namespace_name": namespace, "kube_workload_type": "deployment",
              "kube_workload_name": workload, "kube_deployment_name": workload, "kube_pod_name": pod,
              "kube_node_name": node, "app": workload}
    if service:
        labels["kube_service_name"] = service
    return {"metric": metric, "labels": labels, "value": value}


def many_kube_pods(namespaces=MANY_NAMESPACES):
    """Rows 7 and 7b: `namespaces` namespaces of 20 pods each (Deployment web, pods named alike everywhere), as
    write_pod_list takes them."""
    return ((n * PODS_PER_NAMESPACE + j, many_pod_name(j), many_namespace(n), MANY_APP, MANY_HASH)
            for n in range(namespaces) for j in range(PODS_PER_NAMESPACE))


def many_sysdig(namespaces=MANY_NAMESPACES):
    """One series per pod of many_kube, each also labelled with its Service web (row 7b's objects)."""
    return {"series": [_pod_series(METRIC, many_namespace(n), many_pod_name(j), MANY_APP, f"node-{j % 50}",
                                   n % 100 + j / 4 + 1, service=MANY_APP)
                       for n in range(namespaces) for j in range(PODS_PER_NAMESPACE)]}


def huge_kube_pods(count=HUGE_POD_COUNT):
    """Row 8: one namespace of `count` pods, as write_pod_list takes them."""
    return ((i, huge_pod_name(i), HUGE_NAMESPACE, "huge", HUGE_HASH) for i in range(count))


def huge_sysdig(count=HUGE_POD_COUNT):
    return {"series": [_pod_series(METRIC, HUGE_NAMESPACE, huge_pod_name(i), "huge", f"node-{i % 50}",
                                   (i % 1000) / 4 + 1) for i in range(count)]}


def spread_sysdig(hpas=SPREAD_HPAS):
    """Row 9: for each HPA's Service, one series (one pod) of each of its 10 metrics of its own."""
    series = []
    for h in range(hpas):
        namespace, service = spread_target(h)
        for k in range(SPREAD_METRICS_PER_HPA):
            series.append(_pod_series(spread_metric(h, k), namespace, f"{service}-0", service, f"node-{h % 50}",
                                      h % 100 + k + 0.5, service=service))
    return {"series": series}


def write(directory, name, document):
    """One fixture document as compact JSON in `directory`; returns its path."""
    path = os.path.join(directory, name + ".json")
    with open(path, "w", encoding="utf-8") as f:
        f.write(json.dumps(document, separators=(",", ":")))
    return path


def write_all(directory):
    """Writes the three fixtures into `directory`; returns {"small_sysdig": path, ...} and the pod size."""
    paths = {}
    for name, document in (("small_sysdig", small_sysdig()), ("big_sysdig", big_sysdig()),
                           ("big_kube", big_kube())):
        path = os.path.join(directory, name + ".json")
        with open(path, "w", encoding="utf-8") as f:
            f.write(json.dumps(document, separators=(",", ":")))
        paths[name] = path
    paths["pod_bytes"] = len(json.dumps(_pod(0), separators=(",", ":")))
    return paths


# ---------------------------------------------------------------------------------------------------------
# The soak's fixtures (bench/soak.py). bench/soak.py computes every expected answer from these documents.
# Values are multiples of 1/4 (or integers) wherever the double sums or compares several series, so its
# float arithmetic is exact in any order; finer values (cpu.cores.used) are only ever read one series at a
# time, and check the rounding of quantities finer than 1m.
# ---------------------------------------------------------------------------------------------------------

SOAK_NAMESPACE = "soak"
SOAK_OTHER_NAMESPACE = "soak-other"     # same pod names, other values: a query that leaks gets a wrong sum
SOAK_OTHER_CLUSTER = "elsewhere"        # likewise in another cluster
SOAK_DEPLOYMENTS = [f"web-{i}" for i in range(8)]
SOAK_PODS_PER_DEPLOYMENT = 3
SOAK_STATEFULSET = "db"
SOAK_STATEFULSET_PODS = ["db-0", "db-1"]
SOAK_METRICS = ("net.http.request.count", "memory.used.bytes", "cpu.cores.used")
SOAK_EXTERNAL = "queue.depth"
SOAK_EXTERNAL_SERIES = "sysdig_queue_depth"

# The rules file: sum over an object's series by default, max for memory; one external metric.
SOAK_RULES = f"""rules:
  - external: {SOAK_EXTERNAL}
    series: {SOAK_EXTERNAL_SERIES}
  - metric: memory.used.bytes
    aggregation: max
  - metricRegex: ".*"
"""


def _soak_pod_series(cluster, namespace, offset):
    """(labels, {metric: value}) per pod of the Deployments and the StatefulSet."""
    out = []
    for d, deployment in enumerate(SOAK_DEPLOYMENTS):
        for p in range(SOAK_PODS_PER_DEPLOYMENT):
            labels = {"kube_cluster_name": cluster, "kube_namespace_name": namespace,
                      "kube_workload_type": "deployment", "kube_workload_name": deployment,
                      "kube_deployment_name": deployment, "kube_service_name": deployment,
                      "kube_pod_name": f"{deployment}-{p}"}
            out.append((labels, {"net.http.request.count": offset + 10 * d + p + 0.25 * (p + 1),
                                 "memory.used.bytes": offset + (d + 1) * 100_000_000 + p * 4096 + 7,
                                 "cpu.cores.used": 0.0004 + d * 0.0125 + p * 0.001}))
    for p, pod in enumerate(SOAK_STATEFULSET_PODS):
        labels = {"kube_cluster_name": cluster, "kube_namespace_name": namespace,
                  "kube_workload_type": "statefulset", "kube_workload_name": SOAK_STATEFULSET,
                  "kube_statefulset_name": SOAK_STATEFULSET, "kube_service_name": SOAK_STATEFULSET,
                  "kube_pod_name": pod}
        out.append((labels, {"net.http.request.count": offset + 2.5 + p, "memory.used.bytes": offset + 12_000 * (p + 1),
                             "cpu.cores.used": 1.5 + p * 0.0015}))
    return out


def soak_sysdig():
    series = []
    for cluster, namespace, offset in ((CLUSTER, SOAK_NAMESPACE, 0), (CLUSTER, SOAK_OTHER_NAMESPACE, 1000),
                                       (SOAK_OTHER_CLUSTER, SOAK_NAMESPACE, 2000)):
        for labels, values in _soak_pod_series(cluster, namespace, offset):
            for metric, value in values.items():
                series.append({"metric": metric, "labels": labels, "value": value})
        # A finished pod still has series: pods/* must not list it (the Kubernetes API says it Succeeded).
        series.append({"metric": "net.http.request.count", "value": offset + 99.75,
                       "labels": {"kube_cluster_name": cluster, "kube_namespace_name": namespace,
                                  "kube_pod_name": "web-0-done"}})
        for queue, priority, value in (("orders", "high", 42), ("orders", "low", 8.5), ("emails", "low", 7.25),
                                       ("billing", "high", 3)):
            series.append({"metric": SOAK_EXTERNAL, "promql_name": SOAK_EXTERNAL_SERIES, "value": offset + value,
                           "labels": {"kube_cluster_name": cluster, "kube_namespace_name": namespace,
                                      "queue": queue, "priority": priority}})
    return {"series": series}


def _soak_kube_pod(name, namespace, labels, phase="Running"):
    return {"kind": "Pod", "apiVersion": "v1",
            "metadata": {"name": name, "namespace": namespace, "labels": labels},
            "spec": {"nodeName": "node-1", "containers": [{"name": "main", "image": "registry.example.com/app:1"}]},
            "status": {"phase": phase}}


def soak_kube():
    items = []
    for namespace in (SOAK_NAMESPACE, SOAK_OTHER_NAMESPACE):
        for d, deployment in enumerate(SOAK_DEPLOYMENTS):
            for p in range(SOAK_PODS_PER_DEPLOYMENT):
                items.append(_soak_kube_pod(f"{deployment}-{p}", namespace, {
                    "app": deployment, "tier": "frontend" if d < 4 else "backend",
                    "track": "canary" if p == 2 else "stable"}))
        for pod in SOAK_STATEFULSET_PODS:
            items.append(_soak_kube_pod(pod, namespace, {"app": SOAK_STATEFULSET, "tier": "data"}))
        items.append(_soak_kube_pod("web-0-done", namespace, {"app": "web-0", "tier": "frontend"}, "Succeeded"))
        items.append(_soak_kube_pod("web-1-new", namespace, {"app": "web-1", "tier": "frontend"}))  # no series yet
        items.append(_soak_kube_pod("batch-0", namespace, {"app": "batch"}))                         # no tier label
    return {"kind": "List", "apiVersion": "v1", "metadata": {}, "items": items}
