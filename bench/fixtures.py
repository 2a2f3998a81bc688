"""The doubles' fixtures the benchmark generates at run time (formats: test/doubles/README.md).

- small_sysdig: 10 Deployments web-0..web-9 (3 pods each) in namespace `bench`: the 10 distinct object
  queries of the throughput, sync-wave and latency rows.
- big_sysdig: one series per pod for the 10,000 pods of namespace `big`.
- big_kube: those 10,000 pods, each shaped like a Deployment's pod as the API server lists it (labels,
  annotations, ownerReferences, managedFields, a container with resources and probes, the service-account
  volume, conditions and a container status), about 4 KB of JSON each: the adapter has to read whole pods,
  so a pod stripped to its name would flatter it.
"""
import json
import os

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


def _pod(i):
    name = big_pod_name(i)
    node = f"node-{i % 50}"
    ip = f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"
    uid_owner = "6c1f2d3e-4a5b-4c6d-8e7f-90a1b2c3d4e5"
    time = "2026-01-01T00:00:00Z"
    return {
        "kind": "Pod", "apiVersion": "v1",
        "metadata": {
            "name": name, "generateName": "big-7f9c5d6b8-", "namespace": BIG_NAMESPACE,
            "labels": {"app": "big", "pod-template-hash": "7f9c5d6b8", "tier": "frontend"},
            "annotations": {"kubectl.kubernetes.io/restartedAt": "2026-01-01T00:00:00Z"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "big-7f9c5d6b8",
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
