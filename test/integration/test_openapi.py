"""The OpenAPI documents through the real daemon: /openapi/v2, /openapi/v3 and its per-group documents, ETag and
304 as the kube-aggregator polls them, handler3's hash and cache headers, and definitions that describe exactly
the field names of live MetricValueList, ExternalMetricValueList, Status and discovery answers (renaming a field
on either side fails here)."""
import hashlib
import os
import unittest

from adapter_stack import AdapterStack

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
V1 = "/apis/custom.metrics.k8s.io/v1beta1"
V2 = "/apis/custom.metrics.k8s.io/v1beta2"
EXT = "/apis/external.metrics.k8s.io/v1beta1"
JSON = {"Accept": "application/json"}
V3_DOCUMENTS = ["apis/custom.metrics.k8s.io", "apis/custom.metrics.k8s.io/v1beta1",
                "apis/custom.metrics.k8s.io/v1beta2", "apis/external.metrics.k8s.io",
                "apis/external.metrics.k8s.io/v1beta1"]
# A metricLabelSelector with an equality (matchLabels), a set (matchExpressions with values) and an
# existence test (no values), so every field of a LabelSelector shows in the answers.
METRIC_SELECTOR = "metricLabelSelector=app%3Dkuard,app%20in%20(kuard,redis),!legacy"


def sha512_tag(body):
    return hashlib.sha512(body.encode()).hexdigest().upper()


def header(response, name):
    return {k.lower(): v for k, v in response.headers.items()}.get(name.lower())


class SchemaWalk:
    """Walks live answers against an OpenAPI document's definitions, recording which property names each
    definition was seen with. `prefix` is "#/definitions/" (v2) or "#/components/schemas/" (v3)."""

    def __init__(self, test, definitions, prefix):
        self.test, self.definitions, self.prefix = test, definitions, prefix
        self.seen = {}

    def walk(self, value, schema, where):
        ref = schema.get("$ref") or (schema.get("allOf") or [{}])[0].get("$ref")
        if ref:
            self.test.assertTrue(ref.startswith(self.prefix), ref)
            name = ref[len(self.prefix):]
            self.test.assertIn(name, self.definitions, where)
            seen = self.seen.setdefault(name, set())
            if isinstance(value, dict):
                seen.update(value)
            self.walk(value, self.definitions[name], where)
            return
        types = [schema["type"]] if "type" in schema else [s["type"] for s in schema.get("oneOf", [])]
        python_type = {"string": str, "integer": int, "boolean": bool, "array": list, "object": dict, "number": float}
        self.test.assertTrue(any(isinstance(value, python_type[t]) for t in types), f"{where}: {value!r} is not {types}")
        if isinstance(value, list):
            for item in value:
                self.walk(item, schema["items"], where + "[]")
        if isinstance(value, dict):
            if "additionalProperties" in schema:
                for k, v in value.items():
                    self.walk(v, schema["additionalProperties"], f"{where}.{k}")
                return
            properties = schema.get("properties", {})
            for k, v in value.items():
                self.test.assertIn(k, properties, f"{where}: field {k!r} is answered but not described")
                if v is None:
                    # Only a field that may be left out can be null (v3 says so with nullable).
                    self.test.assertNotIn(k, schema.get("required", []), f"{where}.{k}")
                    if self.prefix.startswith("#/components"):
                        self.test.assertTrue(properties[k].get("nullable"), f"{where}.{k} is null")
                    continue
                self.walk(v, properties[k], f"{where}.{k}")
            for k in schema.get("required", []):
                self.test.assertIn(k, value, f"{where}: required field {k!r} missing")

    def answer(self, body, definition):
        self.walk(body, {"$ref": self.prefix + definition}, definition)

    def assert_exact(self):
        """Every definition visited was described with exactly the fields seen, and every definition was visited."""
        for name, fields in self.seen.items():
            described = set(self.definitions[name].get("properties", {}))
            self.test.assertEqual(fields, described, f"{name}: answered {sorted(fields)}, described {sorted(described)}")
        self.test.assertEqual(set(self.seen), set(self.definitions), "definitions no answer uses, or answers not walked")


class OpenApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack = AdapterStack("--sysdig-api", "promql", "--config", os.path.join(FIXTURES, "sysdig_promql_rules.yaml"),
                                 sysdig_path="/api/")
        cls.adapter = cls.stack.adapter

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop()

    def get_json(self, path, status=200):
        r = self.adapter.get(path)
        self.assertEqual(r.status, status, f"{path}: {r.body}")
        return r.json()

    def live_answers(self):
        """(path, answer, definition name) triples covering every field the adapter writes."""
        answers = []

        def add(path, definition, status=200):
            answers.append((path, self.get_json(path, status), definition))

        add(V1 + "/namespaces/default/services/kuard/net.http.request.count?" + METRIC_SELECTOR,
            "io.k8s.metrics.pkg.apis.custom_metrics.v1beta1.MetricValueList")
        add(V1 + "/namespaces/default/services/kuard/net.http.request.count",
            "io.k8s.metrics.pkg.apis.custom_metrics.v1beta1.MetricValueList")
        add(V2 + "/namespaces/default/deployments.apps/kuard/net.http.request.count?" + METRIC_SELECTOR,
            "io.k8s.metrics.pkg.apis.custom_metrics.v1beta2.MetricValueList")
        add(V2 + "/namespaces/default/pods/*/net.http.request.count?labelSelector=app%3Dkuard",
            "io.k8s.metrics.pkg.apis.custom_metrics.v1beta2.MetricValueList")
        add(EXT + "/namespaces/default/queue.depth?labelSelector=queue%3Dorders",
            "io.k8s.metrics.pkg.apis.external_metrics.v1beta1.ExternalMetricValueList")
        add(V1 + "/namespaces/default/services/kuard/no.such.metric", "io.k8s.apimachinery.pkg.apis.meta.v1.Status",
            status=404)
        add("/apis", "io.k8s.apimachinery.pkg.apis.meta.v1.APIGroupList")
        add("/apis/custom.metrics.k8s.io", "io.k8s.apimachinery.pkg.apis.meta.v1.APIGroup")
        add("/apis/external.metrics.k8s.io", "io.k8s.apimachinery.pkg.apis.meta.v1.APIGroup")
        for version in (V1, V2, EXT):
            add(version, "io.k8s.apimachinery.pkg.apis.meta.v1.APIResourceList")
        return answers

    def test_v2_document_is_served_with_an_etag_and_304_when_current(self):
        r = self.adapter.get("/openapi/v2", headers=JSON)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(header(r, "Content-Type"), "application/json")
        etag = header(r, "ETag")
        self.assertEqual(etag, '"' + sha512_tag(r.body) + '"')
        doc = r.json()
        self.assertEqual(doc["swagger"], "2.0")
        for path in ("/apis/", V2 + "/namespaces/{namespace}/{resource}/{name}/{metric}",
                     V1 + "/{resource}/{name}/{metric}", EXT + "/namespaces/{namespace}/{metric}"):
            self.assertIn(path, doc["paths"])
        list_kind = doc["definitions"]["io.k8s.metrics.pkg.apis.custom_metrics.v1beta2.MetricValueList"][
            "x-kubernetes-group-version-kind"]
        self.assertEqual(list_kind, [{"group": "custom.metrics.k8s.io", "kind": "MetricValueList", "version": "v1beta2"}])

        # The aggregator's next poll: same tag, no body.
        again = self.adapter.get("/openapi/v2", headers={**JSON, "If-None-Match": etag})
        self.assertEqual(again.status, 304)
        self.assertEqual(again.body, "")
        self.assertEqual(header(again, "ETag"), etag)
        self.assertEqual(self.adapter.get("/openapi/v2", headers={"If-None-Match": '"stale"'}).status, 200)

        proto = self.adapter.get("/openapi/v2", headers={
            "Accept": "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"})
        self.assertEqual((proto.status, header(proto, "Content-Type")), (200, "application/json"))
        refused = self.adapter.get("/openapi/v2", headers={"Accept": "text/html"})
        self.assertEqual(refused.status, 406)
        self.assertEqual(refused.json()["reason"], "NotAcceptable")

    def test_v3_discovery_points_at_each_document_by_its_hash(self):
        r = self.adapter.get("/openapi/v3")
        self.assertEqual(r.status, 200, r.body)
        paths = r.json()["paths"]
        self.assertEqual(sorted(paths), V3_DOCUMENTS)
        self.assertEqual(self.adapter.get("/openapi/v3", headers={"If-None-Match": header(r, "ETag")}).status, 304)
        for name, entry in paths.items():
            url = entry["serverRelativeURL"]
            doc = self.adapter.get(url, headers=JSON)
            self.assertEqual(doc.status, 200, f"{url}: {doc.body}")
            self.assertEqual(url, f"/openapi/v3/{name}?hash={sha512_tag(doc.body)}")
            self.assertEqual(header(doc, "ETag"), '"' + sha512_tag(doc.body) + '"')
            self.assertEqual(header(doc, "Cache-Control"), "public, immutable")
            self.assertTrue(header(doc, "Expires").endswith(" GMT"))
            self.assertEqual(doc.json()["openapi"], "3.0.0")
            for path in doc.json()["paths"]:
                self.assertTrue(path.startswith("/" + name + "/"), path)
            current = self.adapter.get(url, headers={**JSON, "If-None-Match": header(doc, "ETag")})
            self.assertEqual((current.status, current.body), (304, ""))
            plain = self.adapter.get("/openapi/v3/" + name)
            self.assertEqual(plain.body, doc.body)
            self.assertIsNone(header(plain, "Cache-Control"))
            stale = self.adapter.get(f"/openapi/v3/{name}?hash=0BSOLETE")
            self.assertEqual(stale.status, 301)
            self.assertEqual(header(stale, "Location"), url)
        self.assertEqual(self.adapter.get("/openapi/v3/apis/apps/v1").status, 404)

    def test_v2_definitions_describe_the_live_answers_exactly(self):
        doc = self.get_json("/openapi/v2")
        walk = SchemaWalk(self, doc["definitions"], "#/definitions/")
        for _, body, definition in self.live_answers():
            walk.answer(body, definition)
        walk.assert_exact()

    def test_v3_definitions_describe_the_live_answers_exactly(self):
        walks = {name: SchemaWalk(self, self.get_json("/openapi/v3/" + name)["components"]["schemas"],
                                  "#/components/schemas/") for name in V3_DOCUMENTS}
        for path, body, definition in self.live_answers():
            if definition == "io.k8s.apimachinery.pkg.apis.meta.v1.Status":
                documents = V3_DOCUMENTS  # any path may fail
            else:  # the document whose paths hold this one: the longest name that prefixes it
                route = path.split("?")[0] + "/"
                documents = [max((n for n in V3_DOCUMENTS if route.startswith("/" + n + "/")), key=len, default=None)]
            for name in documents:
                if name:
                    walks[name].answer(body, definition)
        for walk in walks.values():
            walk.assert_exact()

    def test_openapi_requests_are_their_own_kind_in_the_self_metrics(self):
        self.adapter.get("/openapi/v2")
        metrics = self.adapter.get("/metrics").body
        self.assertIn('kind="openapi"', metrics)


if __name__ == "__main__":
    unittest.main()
