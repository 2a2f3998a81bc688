"""Secrets and APIServices for the fake Kubernetes API server (kube_api_double.py): the objects an adapter that
manages its own serving certificate reads, creates, updates and patches.

Behaviour follows the API server's registry for these types:
- Secrets: GET, POST (create: 201; 409 AlreadyExists when the name is taken), PUT (update: the name must match the
  URL; a metadata.resourceVersion that is not the stored one is 409 Conflict; none means an unconditional update;
  a missing Secret is 404; `type` is immutable, 422). Data values are base64 (400 otherwise); type
  kubernetes.io/tls needs tls.crt and tls.key (422).
- APIServices (apiregistration.k8s.io/v1): GET and PATCH with a JSON merge patch (application/merge-patch+json;
  other patch types 415). caBundle is base64; insecureSkipTLSVerify true beside a caBundle is 422, as upstream.
- HorizontalPodAutoscalers (autoscaling/v2, also answered as v2beta2, whose spec has the same shape), GET only.
- Deployments and StatefulSets (apps/v1), GET, and their /scale subresource as an autoscaling/v1 Scale (spec.replicas,
  status.replicas and status.selector, the selector string the HPA controller parses).
- The server's version (GET /version), "1.33" unless set.
Every stored change gets a new resourceVersion. Python 3.11, standard library only.
"""
import base64
import binascii
import copy
import json
import re
import threading
import uuid

CREATION_TIMESTAMP = "2026-01-01T00:00:00Z"
DATA_KEY_RE = re.compile(r"[-._a-zA-Z0-9]+")
NAME_RE = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
APISERVICE_GROUP = "apiregistration.k8s.io"
DEFAULT_VERSION = "1.33"
HPA_VERSIONS = ("v2", "v2beta2")
WORKLOAD_KINDS = {"deployments": "Deployment", "statefulsets": "StatefulSet"}
OBJECT_SETS = {"secrets", "apiServices", "horizontalPodAutoscalers", "deployments", "statefulSets", "version"}


class ApiFailure(Exception):
    """An answer other than success: (code, message, details) become a Status; causes make it a 422."""

    def __init__(self, code, message, details=None, reason=None):
        super().__init__(message)
        self.code, self.message, self.details, self.reason = code, message, details, reason


def invalid(kind, group, name, field, message):
    qualified = f"{kind}.{group}" if group else kind
    details = {"name": name, "group": group, "kind": kind,
               "causes": [{"reason": "FieldValueInvalid", "message": message, "field": field}]}
    return ApiFailure(422, f'{qualified} "{name}" is invalid: {field}: {message}', details)


def decode_bytes(value, kind):
    """A Go []byte field: a base64 string (standard alphabet, padded), as encoding/json reads it."""
    if not isinstance(value, str):
        raise ApiFailure(400, f'{kind} in version "v1" cannot be handled as a {kind}: json: cannot unmarshal '
                              f"non-string into Go value of type []uint8")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as e:
        raise ApiFailure(400, f'{kind} in version "v1" cannot be handled as a {kind}: illegal base64 data: {e}')


def merge_patch(target, patch):
    """RFC 7386."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


class StoredObjects:
    """The Secrets and APIServices, behind one lock. Objects are kept as the API server returns them."""

    def __init__(self):
        self._lock = threading.Lock()
        self._version = 7000
        self.secrets = {}       # (namespace, name) -> Secret
        self.apiservices = {}   # name -> APIService
        self.hpas = {}          # (namespace, name) -> HorizontalPodAutoscaler (autoscaling/v2)
        self.workloads = {}     # (resource, namespace, name) -> Deployment or StatefulSet
        self.version = DEFAULT_VERSION

    def _next_version(self):
        self._version += 1
        return str(self._version)

    def _metadata(self, kind, name, namespace=None, given=None):
        metadata = {"name": name}
        if namespace is not None:
            metadata["namespace"] = namespace
        metadata["uid"] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{kind}/{namespace}/{name}"))
        metadata["resourceVersion"] = self._next_version()
        metadata["creationTimestamp"] = CREATION_TIMESTAMP
        for key in ("labels", "annotations"):
            if isinstance((given or {}).get(key), dict) and given[key]:
                metadata[key] = dict(given[key])
        return metadata

    # -- Secrets -------------------------------------------------------------------------------------------

    @staticmethod
    def _checked_secret(document, namespace, name_in_url=None):
        if not isinstance(document, dict):
            raise ApiFailure(400, "the body is not a JSON object")
        if document.get("kind") not in (None, "", "Secret") or document.get("apiVersion") not in (None, "", "v1"):
            raise ApiFailure(400, f"the kind in the data ({document.get('kind')}) does not match the expected kind "
                                  "(Secret)")
        metadata = document.get("metadata") or {}
        name = metadata.get("name", "")
        if not isinstance(name, str) or not name:
            raise invalid("Secret", "", "", "metadata.name", "Required value: name or generateName is required")
        if name_in_url is not None and name != name_in_url:
            raise ApiFailure(400, f"the name of the object ({name}) does not match the name on the URL "
                                  f"({name_in_url})")
        if metadata.get("namespace") not in (None, "", namespace):
            raise ApiFailure(400, "the namespace of the provided object does not match the namespace sent on the "
                                  "request")
        if len(name) > 253 or not NAME_RE.fullmatch(name):
            raise invalid("Secret", "", name, "metadata.name", f'Invalid value: "{name}": a lowercase RFC 1123 '
                                                              "subdomain must consist of lower case alphanumeric "
                                                              "characters, '-' or '.'")
        data = document.get("data") or {}
        if not isinstance(data, dict):
            raise ApiFailure(400, 'Secret in version "v1" cannot be handled as a Secret: data is not an object')
        for key, value in data.items():
            if not DATA_KEY_RE.fullmatch(key):
                raise invalid("Secret", "", name, f"data[{key}]", f'Invalid value: "{key}": a valid config key '
                                                                  "must consist of alphanumeric characters, '-', "
                                                                  "'_' or '.'")
            decode_bytes(value, "Secret")
        secret_type = document.get("type") or "Opaque"
        if secret_type == "kubernetes.io/tls":
            for key in ("tls.crt", "tls.key"):
                if key not in data:
                    raise invalid("Secret", "", name, f"data[{key}]", "Required value")
        return name, metadata, data, secret_type

    def get_secret(self, namespace, name):
        with self._lock:
            secret = self.secrets.get((namespace, name))
            if secret is None:
                raise ApiFailure(404, f'secrets "{name}" not found', {"name": name, "kind": "secrets"})
            return copy.deepcopy(secret)

    def create_secret(self, namespace, document):
        name, metadata, data, secret_type = self._checked_secret(document, namespace)
        with self._lock:
            if (namespace, name) in self.secrets:
                raise ApiFailure(409, f'secrets "{name}" already exists', {"name": name, "kind": "secrets"},
                                 reason="AlreadyExists")
            secret = {"kind": "Secret", "apiVersion": "v1",
                      "metadata": self._metadata("secrets", name, namespace, metadata),
                      "data": dict(data), "type": secret_type}
            self.secrets[(namespace, name)] = secret
            return copy.deepcopy(secret)

    def update_secret(self, namespace, name_in_url, document):
        name, metadata, data, secret_type = self._checked_secret(document, namespace, name_in_url)
        with self._lock:
            stored = self.secrets.get((namespace, name))
            if stored is None:
                raise ApiFailure(404, f'secrets "{name}" not found', {"name": name, "kind": "secrets"})
            wanted_version = metadata.get("resourceVersion")
            if wanted_version not in (None, "") and wanted_version != stored["metadata"]["resourceVersion"]:
                raise ApiFailure(409, f'Operation cannot be fulfilled on secrets "{name}": the object has been '
                                      "modified; please apply your changes to the latest version and try again",
                                 {"name": name, "kind": "secrets"})
            if secret_type != stored["type"]:
                raise invalid("Secret", "", name, "type", f'Invalid value: "{secret_type}": field is immutable')
            updated = {"kind": "Secret", "apiVersion": "v1",
                       "metadata": {**self._metadata("secrets", name, namespace, metadata),
                                    "uid": stored["metadata"]["uid"]},
                       "data": dict(data), "type": secret_type}
            self.secrets[(namespace, name)] = updated
            return copy.deepcopy(updated)

    # -- APIServices ---------------------------------------------------------------------------------------

    @staticmethod
    def _check_apiservice(service):
        name = service["metadata"]["name"]
        spec = service.get("spec")
        if not isinstance(spec, dict):
            raise invalid("APIService", APISERVICE_GROUP, name, "spec", "Required value")
        ca_bundle = spec.get("caBundle")
        if ca_bundle is not None:
            decode_bytes(ca_bundle, "APIService")
        insecure = spec.get("insecureSkipTLSVerify", False)
        if not isinstance(insecure, bool):
            raise ApiFailure(400, 'APIService in version "v1" cannot be handled as a APIService: json: cannot '
                                  "unmarshal into Go struct field APIServiceSpec.spec.insecureSkipTLSVerify of type bool")
        if insecure and ca_bundle:
            raise invalid("APIService", APISERVICE_GROUP, name, "spec.insecureSkipTLSVerify",
                          "Invalid value: true: may not be true if caBundle is present")

    def get_apiservice(self, name):
        with self._lock:
            service = self.apiservices.get(name)
            if service is None:
                raise ApiFailure(404, f'apiservices.{APISERVICE_GROUP} "{name}" not found',
                                 {"name": name, "group": APISERVICE_GROUP, "kind": "apiservices"})
            return copy.deepcopy(service)

    def patch_apiservice(self, name, patch):
        if not isinstance(patch, dict):
            raise ApiFailure(400, "the patch is not a JSON object")
        with self._lock:
            stored = self.apiservices.get(name)
            if stored is None:
                raise ApiFailure(404, f'apiservices.{APISERVICE_GROUP} "{name}" not found',
                                 {"name": name, "group": APISERVICE_GROUP, "kind": "apiservices"})
            patched = merge_patch(stored, patch)
            patched["metadata"]["name"] = name   # the name cannot be patched away
            wanted_version = (patch.get("metadata") or {}).get("resourceVersion")
            if wanted_version not in (None, "") and wanted_version != stored["metadata"]["resourceVersion"]:
                raise ApiFailure(409, f'Operation cannot be fulfilled on apiservices.{APISERVICE_GROUP} "{name}": '
                                      "the object has been modified; please apply your changes to the latest "
                                      "version and try again", {"name": name, "kind": "apiservices"})
            self._check_apiservice(patched)
            if patched != stored:
                patched["metadata"]["resourceVersion"] = self._next_version()
                self.apiservices[name] = patched
            return copy.deepcopy(self.apiservices[name])

    # -- control ---------------------------------------------------------------------------------------------

    def replace(self, document):
        """{"secrets": [Secret, ...], "apiServices": [APIService, ...]}: replaces both sets (ValueError when a
        body is not what the API server would store)."""
        if not isinstance(document, dict) or set(document) - OBJECT_SETS:
            raise ValueError('expected {"secrets": [...], "apiServices": [...], "horizontalPodAutoscalers": [...], '
                             '"deployments": [...], "statefulSets": [...], "version": "1.33"}')
        secrets, apiservices = {}, {}
        hpas, workloads = self._checked_hpas(document), self._checked_workloads(document)
        version = document.get("version", DEFAULT_VERSION)
        if not isinstance(version, str) or not re.fullmatch(r"1\.\d{1,2}", version):
            raise ValueError('version must be "1.<minor>", e.g. "1.30"')
        try:
            for item in document.get("secrets", []):
                namespace = (item.get("metadata") or {}).get("namespace", "")
                name, metadata, data, secret_type = self._checked_secret(item, namespace)
                with self._lock:
                    secrets[(namespace, name)] = {"kind": "Secret", "apiVersion": "v1",
                                                  "metadata": self._metadata("secrets", name, namespace, metadata),
                                                  "data": dict(data), "type": secret_type}
            for item in document.get("apiServices", []):
                name = (item.get("metadata") or {}).get("name", "")
                with self._lock:
                    service = {"kind": "APIService", "apiVersion": f"{APISERVICE_GROUP}/v1",
                               "metadata": self._metadata("apiservices", name, None, item.get("metadata")),
                               "spec": copy.deepcopy(item.get("spec")), "status": {}}
                self._check_apiservice(service)
                apiservices[name] = service
        except (ApiFailure, AttributeError, TypeError) as e:
            raise ValueError(f"invalid object: {e}") from e
        with self._lock:
            self.secrets, self.apiservices = secrets, apiservices
            self.hpas, self.workloads, self.version = hpas, workloads, version
        return {"secrets": len(secrets), "apiServices": len(apiservices), "horizontalPodAutoscalers": len(hpas),
                "workloads": len(workloads)}

    def snapshot(self):
        with self._lock:
            return {"secrets": [copy.deepcopy(s) for _, s in sorted(self.secrets.items())],
                    "apiServices": [copy.deepcopy(s) for _, s in sorted(self.apiservices.items())],
                    "horizontalPodAutoscalers": [copy.deepcopy(h) for _, h in sorted(self.hpas.items())],
                    "deployments": [copy.deepcopy(w) for (r, _, _), w in sorted(self.workloads.items())
                                    if r == "deployments"],
                    "statefulSets": [copy.deepcopy(w) for (r, _, _), w in sorted(self.workloads.items())
                                     if r == "statefulsets"],
                    "version": self.version}

    # -- HorizontalPodAutoscalers, workloads and their /scale ------------------------------------------------

    def _stored(self, kind, api_version, resource, item):
        """An object as the API server returns it: the given metadata filled in (uid, resourceVersion, ...)."""
        metadata = item.get("metadata") if isinstance(item, dict) else None
        name, namespace = (metadata or {}).get("name"), (metadata or {}).get("namespace", "default")
        if not isinstance(name, str) or not NAME_RE.fullmatch(name) or not isinstance(namespace, str):
            raise ValueError(f"a {kind} needs metadata.name (and a metadata.namespace, default: default)")
        with self._lock:
            stored = {"kind": kind, "apiVersion": api_version,
                      "metadata": self._metadata(resource, name, namespace, metadata)}
        for key in ("spec", "status"):
            if key in item:
                stored[key] = copy.deepcopy(item[key])
        return namespace, name, stored

    def _checked_hpas(self, document):
        hpas = {}
        for item in document.get("horizontalPodAutoscalers", []):
            namespace, name, hpa = self._stored("HorizontalPodAutoscaler", "autoscaling/v2",
                                                "horizontalpodautoscalers", item)
            spec = hpa.get("spec")
            if not isinstance(spec, dict) or not isinstance(spec.get("scaleTargetRef"), dict) \
                    or not isinstance(spec.get("maxReplicas"), int):
                raise ValueError(f"HorizontalPodAutoscaler {namespace}/{name} needs spec.scaleTargetRef and "
                                 "spec.maxReplicas")
            hpas[(namespace, name)] = hpa
        return hpas

    def _checked_workloads(self, document):
        workloads = {}
        for key, resource in (("deployments", "deployments"), ("statefulSets", "statefulsets")):
            for item in document.get(key, []):
                namespace, name, workload = self._stored(WORKLOAD_KINDS[resource], "apps/v1", resource, item)
                spec = workload.setdefault("spec", {})
                if not isinstance(spec.get("selector"), dict):
                    raise ValueError(f"{WORKLOAD_KINDS[resource]} {namespace}/{name} needs spec.selector")
                spec.setdefault("replicas", 1)
                workload.setdefault("status", {}).setdefault("replicas", spec["replicas"])
                workloads[(resource, namespace, name)] = workload
        return workloads

    def get_hpa(self, version, namespace, name):
        with self._lock:
            hpa = self.hpas.get((namespace, name))
            if hpa is None:
                raise ApiFailure(404, f'horizontalpodautoscalers.autoscaling "{name}" not found',
                                 {"name": name, "group": "autoscaling", "kind": "horizontalpodautoscalers"})
            return {**copy.deepcopy(hpa), "apiVersion": f"autoscaling/{version}"}

    def get_workload(self, resource, namespace, name):
        with self._lock:
            workload = self.workloads.get((resource, namespace, name))
            if workload is None:
                raise ApiFailure(404, f'{resource}.apps "{name}" not found',
                                 {"name": name, "group": "apps", "kind": resource})
            return copy.deepcopy(workload)

    def get_scale(self, resource, namespace, name):
        """The autoscaling/v1 Scale of a workload, as the apps registry's scale subresource writes it."""
        workload = self.get_workload(resource, namespace, name)
        metadata = {key: workload["metadata"][key]
                    for key in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")}
        return {"kind": "Scale", "apiVersion": "autoscaling/v1", "metadata": metadata,
                "spec": {"replicas": workload["spec"]["replicas"]},
                "status": {"replicas": workload["status"]["replicas"],
                           "selector": selector_string(workload["spec"]["selector"])}}

    def version_info(self):
        with self._lock:
            minor = self.version.split(".")[1]
        return {"major": "1", "minor": minor, "gitVersion": f"v1.{minor}.0", "gitCommit": "0" * 40,
                "gitTreeState": "clean", "buildDate": CREATION_TIMESTAMP, "goVersion": "go1.24.0",
                "compiler": "gc", "platform": "linux/amd64"}


def selector_string(selector):
    """metav1.LabelSelector as the string labels.Selector.String() writes: requirements sorted by key."""
    requirements = [(key, f"{key}={value}") for key, value in (selector.get("matchLabels") or {}).items()]
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression["key"], expression["operator"], sorted(expression.get("values") or [])
        text = {"In": f"{key} in ({','.join(values)})", "NotIn": f"{key} notin ({','.join(values)})",
                "Exists": key, "DoesNotExist": f"!{key}"}[operator]
        requirements.append((key, text))
    return ",".join(text for _, text in sorted(requirements))


def parse_body(request, kind):
    try:
        return json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ApiFailure(400, f"couldn't get version/kind; json parse error: {e}") from e


def content_type_of(request):
    return request.headers.get("Content-Type", "").split(";")[0].strip().lower()
