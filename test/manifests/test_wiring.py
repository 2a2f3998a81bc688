"""manifests:wiring: the objects of the rendered kustomizations refer to each other correctly.

Names, ports, selectors, mounts and RBAC subjects only fail in a cluster, often silently (an
APIService that is never Available, a pod stuck in ContainerCreating, an HPA without metrics), so
they are checked here on `kubectl kustomize` output. With a built adapter the container args are
checked against its --help and the rules file against the example HPAs.
"""
import os
import posixpath
import subprocess
import tempfile
import unittest
import urllib.parse

import manifest_support as ms

API_SERVICES = {
    "v1beta1.custom.metrics.k8s.io": ("custom.metrics.k8s.io", "v1beta1"),
    "v1beta2.custom.metrics.k8s.io": ("custom.metrics.k8s.io", "v1beta2"),
    "v1beta1.external.metrics.k8s.io": ("external.metrics.k8s.io", "v1beta1"),
}
SERVING_SECRET = "sysdig-metrics-adapter-serving-cert"
BASE_ARGS = [
    "--secure-port=6443",
    "--serving-cert-secret=" + SERVING_SECRET,
    "--sysdig-token-file=/var/run/secrets/sysdig/token",
    "--config=/etc/sysdig-metrics-adapter/adapter.yaml",
]
CERT_MANAGER_ARGS = [
    "--secure-port=6443",
    "--tls-cert-file=/var/run/serving-cert/tls.crt",
    "--tls-private-key-file=/var/run/serving-cert/tls.key",
    "--sysdig-token-file=/var/run/secrets/sysdig/token",
    "--config=/etc/sysdig-metrics-adapter/adapter.yaml",
]
WRITE_VERBS = {"create", "update", "patch", "delete", "deletecollection", "escalate", "bind", "impersonate"}
# Roles Kubernetes itself provides, referenced by the bindings.
BUILTIN_CLUSTER_ROLES = {"system:auth-delegator"}
BUILTIN_ROLES = {("kube-system", "extension-apiserver-authentication-reader")}
HPA_CONTROLLER = ("kube-system", "horizontal-pod-autoscaler")
# Service accounts outside the manifests that bindings may name, per render.
EXTERNAL_SERVICE_ACCOUNTS = {
    "manifests": {HPA_CONTROLLER},
    "dev": {HPA_CONTROLLER},
    "servicemonitor": {HPA_CONTROLLER, ("monitoring", "prometheus-k8s")},
    "cert-manager": {HPA_CONTROLLER},
    "user-logic": {HPA_CONTROLLER},
}
EXAMPLE_HPAS = ("hpa-object.yaml", "hpa-pods.yaml", "hpa-external.yaml")


def adapter(docs):
    return ms.one(docs, "Deployment", ms.APP, ms.NAMESPACE)


def container(deployment):
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1, "one container expected"
    return containers[0]


def sizing_row(cluster):
    """(CPU request, memory request, memory limit) of a row of docs/benchmarks.md's sizing table."""
    text = (ms.REPO / "docs" / "benchmarks.md").read_text(encoding="utf-8")
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[0].split(" ")[0] == cluster:
            return tuple(c.strip("`") for c in cells[2:])
    raise AssertionError(f"docs/benchmarks.md has no sizing row {cluster!r}")


def flag_values(args):
    out = {}
    for arg in args:
        assert arg.startswith("--"), arg
        name, _, value = arg[2:].partition("=")
        out[name] = value
    return out


def named_port(c, port):
    """The containerPort a probe's or Service's port (name or number) resolves to."""
    for p in c.get("ports", []):
        if port == p.get("name") or port == p["containerPort"]:
            return p["containerPort"]
    return None


class AdapterWiringTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        ms.require_kubectl()

    def renders(self):
        for name in ms.ADAPTER_RENDERS:
            with self.subTest(kustomization=name):
                yield name, ms.render(name)

    def test_deployment_selector_and_service_match_the_pods(self):
        for _, docs in self.renders():
            d = adapter(docs)
            pod_labels = d["spec"]["template"]["metadata"]["labels"]
            self.assertTrue(ms.labels_match(d["spec"]["selector"]["matchLabels"], pod_labels))
            svc = ms.one(docs, "Service", ms.APP, ms.NAMESPACE)
            self.assertTrue(svc["spec"]["selector"])
            self.assertTrue(ms.labels_match(svc["spec"]["selector"], pod_labels),
                            "Service selector %s does not select the pods %s" % (svc["spec"]["selector"], pod_labels))
            ports = svc["spec"]["ports"]
            self.assertEqual([(p["name"], p["port"]) for p in ports], [("https", 443)])
            secure_port = int(flag_values(container(d)["args"])["secure-port"])
            self.assertEqual(named_port(container(d), ports[0]["targetPort"]), secure_port,
                             "Service targetPort does not reach --secure-port")
            self.assertEqual(secure_port, 6443)

    def test_apiservices_point_at_the_service(self):
        for _, docs in self.renders():
            svc = ms.one(docs, "Service", ms.APP, ms.NAMESPACE)
            apis = {a["metadata"]["name"]: a for a in ms.objects(docs, "APIService")}
            self.assertEqual(set(apis), set(API_SERVICES))
            for name, (group, version) in API_SERVICES.items():
                spec = apis[name]["spec"]
                self.assertEqual((spec["group"], spec["version"]), (group, version), name)
                self.assertEqual(spec["service"]["name"], svc["metadata"]["name"], name)
                self.assertEqual(spec["service"]["namespace"], svc["metadata"]["namespace"], name)
                self.assertIn(spec["service"]["port"], [p["port"] for p in svc["spec"]["ports"]], name)
                self.assertEqual(spec["service"]["port"], 443, name)
                self.assertEqual(spec["groupPriorityMinimum"], 100, name)
            self.assertGreater(apis["v1beta2.custom.metrics.k8s.io"]["spec"]["versionPriority"],
                               apis["v1beta1.custom.metrics.k8s.io"]["spec"]["versionPriority"],
                               "v1beta2 must be the preferred custom metrics version")

    def test_the_aggregator_always_verifies_the_adapter(self):
        for name, docs in self.renders():
            for api in ms.objects(docs, "APIService"):
                spec = api["spec"]
                self.assertNotIn("insecureSkipTLSVerify", spec, api["metadata"]["name"])
                # Injected at run time, by the adapter or by cert-manager: a value here would be a
                # placeholder that `kubectl apply` puts back over the real one.
                self.assertNotIn("caBundle", spec, api["metadata"]["name"])
                injector = (api["metadata"].get("annotations") or {}).get("cert-manager.io/inject-ca-from")
                if name == "cert-manager":
                    namespace, _, certificate = injector.partition("/")
                    ms.one(docs, "Certificate", certificate, namespace)
                else:
                    self.assertIsNone(injector)

    def test_cert_manager_certificate_names_the_service_and_is_served(self):
        docs = ms.render("cert-manager")
        svc = ms.one(docs, "Service", ms.APP, ms.NAMESPACE)
        base = "%s.%s" % (svc["metadata"]["name"], svc["metadata"]["namespace"])
        serving = ms.one(docs, "Certificate", "sysdig-metrics-adapter-serving", ms.NAMESPACE)
        self.assertEqual(serving["spec"]["dnsNames"], [base + ".svc", base + ".svc.cluster.local", base])
        issuer = ms.one(docs, "Issuer", serving["spec"]["issuerRef"]["name"], ms.NAMESPACE)
        ca = [c for c in ms.objects(docs, "Certificate") if c["spec"]["secretName"] == issuer["spec"]["ca"]["secretName"]]
        self.assertEqual(len(ca), 1)
        self.assertIs(ca[0]["spec"]["isCA"], True)
        volumes = adapter(docs)["spec"]["template"]["spec"]["volumes"]
        self.assertIn(serving["spec"]["secretName"], [v.get("secret", {}).get("secretName") for v in volumes])

    def test_rbac_bindings_name_existing_roles_and_subjects(self):
        for name, docs in self.renders():
            accounts = {(sa["metadata"]["namespace"], sa["metadata"]["name"]) for sa in ms.objects(docs, "ServiceAccount")}
            cluster_roles = {r["metadata"]["name"] for r in ms.objects(docs, "ClusterRole")} | BUILTIN_CLUSTER_ROLES
            roles = {(r["metadata"]["namespace"], r["metadata"]["name"]) for r in ms.objects(docs, "Role")} | BUILTIN_ROLES
            bindings = ms.objects(docs, "ClusterRoleBinding") + ms.objects(docs, "RoleBinding")
            self.assertTrue(bindings)
            for b in bindings:
                ref = b["roleRef"]
                self.assertEqual(ref["apiGroup"], "rbac.authorization.k8s.io")
                if ref["kind"] == "ClusterRole":
                    self.assertIn(ref["name"], cluster_roles, b["metadata"]["name"])
                else:
                    self.assertEqual(ref["kind"], "Role")
                    self.assertEqual(b["kind"], "RoleBinding", "a ClusterRoleBinding cannot bind a Role")
                    self.assertIn((b["metadata"]["namespace"], ref["name"]), roles, b["metadata"]["name"])
                self.assertTrue(b.get("subjects"), b["metadata"]["name"])
                for s in b["subjects"]:
                    self.assertEqual(s["kind"], "ServiceAccount", b["metadata"]["name"])
                    self.assertNotIn("apiGroup", s, "ServiceAccount subjects have no apiGroup")
                    self.assertIn((s.get("namespace"), s["name"]), accounts | EXTERNAL_SERVICE_ACCOUNTS[name],
                                  "binding %s names an unknown service account" % b["metadata"]["name"])
            sa = adapter(docs)["spec"]["template"]["spec"]["serviceAccountName"]
            self.assertIn((ms.NAMESPACE, sa), accounts)

    def bound_rules(self, docs, namespace, account):
        """The rules granted to one service account by the ClusterRoleBindings and RoleBindings."""
        cluster_roles = {r["metadata"]["name"]: r for r in ms.objects(docs, "ClusterRole")}
        out = []
        for b in ms.objects(docs, "ClusterRoleBinding") + ms.objects(docs, "RoleBinding"):
            if not any(s["kind"] == "ServiceAccount" and s["name"] == account and s.get("namespace") == namespace
                       for s in b["subjects"]):
                continue
            out.append((b["kind"], b["metadata"].get("namespace"), b["roleRef"]["kind"], b["roleRef"]["name"],
                        cluster_roles.get(b["roleRef"]["name"], {}).get("rules")))
        return out

    def test_the_adapter_and_the_hpa_controller_get_their_grants(self):
        for _, docs in self.renders():
            grants = self.bound_rules(docs, ms.NAMESPACE, ms.APP)
            refs = {(kind, ns, ref_kind, ref) for kind, ns, ref_kind, ref, _ in grants}
            self.assertIn(("ClusterRoleBinding", None, "ClusterRole", "system:auth-delegator"), refs)
            self.assertIn(("RoleBinding", "kube-system", "Role", "extension-apiserver-authentication-reader"), refs)
            readable = set()
            for _, _, _, _, rules in grants:
                for rule in rules or []:
                    if {"get", "list", "watch"} <= set(rule.get("verbs", [])):
                        readable |= {(g, r) for g in rule.get("apiGroups", []) for r in rule.get("resources", [])}
            for wanted in [("", "pods"), ("", "services"), ("", "namespaces"), ("", "nodes"),
                           ("apps", "deployments"), ("apps", "statefulsets"), ("apps", "replicasets"),
                           ("batch", "jobs")]:
                self.assertIn(wanted, readable)

            hpa = self.bound_rules(docs, *HPA_CONTROLLER)
            granted = set()
            for kind, _, _, _, rules in hpa:
                self.assertEqual(kind, "ClusterRoleBinding")
                for rule in rules or []:
                    granted |= {(g, r, v) for g in rule["apiGroups"] for r in rule["resources"] for v in rule["verbs"]}
            for group in ("custom.metrics.k8s.io", "external.metrics.k8s.io"):
                for verb in ("get", "list"):
                    self.assertIn((group, "*", verb), granted)

    def own_rules(self, docs):
        """(binding kind, namespace, rule) of every rule this render's own Roles and ClusterRoles give the adapter."""
        roles = {("ClusterRole", None, r["metadata"]["name"]): r for r in ms.objects(docs, "ClusterRole")}
        roles.update({("Role", r["metadata"]["namespace"], r["metadata"]["name"]): r for r in ms.objects(docs, "Role")})
        out = []
        for b in ms.objects(docs, "ClusterRoleBinding") + ms.objects(docs, "RoleBinding"):
            if not any(s["name"] == ms.APP and s.get("namespace") == ms.NAMESPACE for s in b["subjects"]):
                continue
            ref = b["roleRef"]
            role = roles.get((ref["kind"], b["metadata"].get("namespace") if ref["kind"] == "Role" else None, ref["name"]))
            for rule in (role or {}).get("rules", []):
                out.append((b["kind"], b["metadata"].get("namespace"), rule))
        return out

    def test_the_adapters_own_grants_are_least_privilege(self):
        for name, docs in self.renders():
            writes = []
            for kind, namespace, rule in self.own_rules(docs):
                for key in ("apiGroups", "resources", "verbs", "resourceNames"):
                    self.assertNotIn("*", rule.get(key, []), "%s: no wildcards in the adapter's grants" % rule)
                verbs = set(rule["verbs"])
                if verbs & WRITE_VERBS:
                    writes.append((kind, namespace, rule))
            if name == "cert-manager":
                self.assertEqual(writes, [], "with cert-manager the adapter writes nothing")
                continue
            granted = set()
            for kind, namespace, rule in writes:
                resources = set(rule["resources"])
                if resources == {"secrets"}:
                    # Secrets: in the adapter's namespace only, never cluster-wide.
                    self.assertEqual((kind, namespace), ("RoleBinding", ms.NAMESPACE), rule)
                    if rule.get("resourceNames"):
                        self.assertEqual(rule["resourceNames"], [SERVING_SECRET])
                        self.assertEqual(set(rule["verbs"]), {"get", "update"})
                        granted.add("update")
                    else:
                        # create cannot be limited by name; it is the only verb granted without one.
                        self.assertEqual(rule["verbs"], ["create"])
                        granted.add("create")
                else:
                    self.assertEqual(rule["apiGroups"], ["apiregistration.k8s.io"], rule)
                    self.assertEqual(resources, {"apiservices"})
                    self.assertEqual(sorted(rule["resourceNames"]), sorted(API_SERVICES))
                    self.assertEqual(set(rule["verbs"]), {"get", "patch"})
                    granted.add("patch")
            self.assertEqual(granted, {"create", "update", "patch"})
            flags = flag_values(container(adapter(docs))["args"])
            self.assertEqual(flags["serving-cert-secret"], SERVING_SECRET)

    def test_every_referenced_configmap_and_secret_exists_and_is_mounted(self):
        externals = ms.external_secret_templates()
        for _, docs in self.renders():
            d = adapter(docs)
            pod = d["spec"]["template"]["spec"]
            c = container(d)
            configmaps = {cm["metadata"]["name"]: cm for cm in ms.objects(docs, "ConfigMap")
                          if cm["metadata"]["namespace"] == ms.NAMESPACE}
            volumes = {v["name"]: v for v in pod["volumes"]}
            mounts = {m["name"]: m for m in c["volumeMounts"]}
            self.assertEqual(len(mounts), len(c["volumeMounts"]), "a volume mounted twice")
            self.assertEqual(set(volumes), set(mounts), "every volume mounted, every mount a volume")
            for v in volumes.values():
                if "configMap" in v:
                    cm = configmaps.get(v["configMap"]["name"])
                    self.assertIsNotNone(cm, "ConfigMap %s is not in the output" % v["configMap"]["name"])
                elif "secret" in v:
                    known = set(externals) | set(ms.cert_manager_secrets(docs))
                    self.assertIn((ms.NAMESPACE, v["secret"]["secretName"]), known,
                                  "Secret %s has no template in manifests/secrets/ and no Certificate makes it"
                                  % v["secret"]["secretName"])
                else:
                    self.assertIn("emptyDir", v, "unexpected volume type in %s" % v["name"])
            for env in c.get("env", []):
                ref = env.get("valueFrom", {})
                if "configMapKeyRef" in ref:
                    cm = configmaps.get(ref["configMapKeyRef"]["name"])
                    self.assertIsNotNone(cm, env["name"])
                    self.assertIn(ref["configMapKeyRef"]["key"], cm["data"], env["name"])
                self.assertNotIn("secretKeyRef", ref, "the token is a mounted file, not an env var")
            self.assertNotIn("envFrom", c)

    def test_settings_come_from_the_settings_configmap(self):
        for _, docs in self.renders():
            env = {e["name"]: e["valueFrom"]["configMapKeyRef"] for e in container(adapter(docs))["env"]}
            self.assertEqual(set(env), {"SDC_ENDPOINT", "CLUSTER_NAME"})
            self.assertEqual(env["SDC_ENDPOINT"]["key"], "sdc-endpoint")
            self.assertEqual(env["CLUSTER_NAME"]["key"], "cluster-name")
            for ref in env.values():
                self.assertTrue(ref["name"].startswith("sysdig-metrics-adapter-settings"), ref["name"])

    def test_args_reference_files_in_the_mounted_objects(self):
        externals = ms.external_secret_templates()
        for _, docs in self.renders():
            d = adapter(docs)
            c = container(d)
            volumes = {v["name"]: v for v in d["spec"]["template"]["spec"]["volumes"]}
            configmaps = {cm["metadata"]["name"]: cm for cm in ms.objects(docs, "ConfigMap")}
            files = [v for v in flag_values(c["args"]).values() if v.startswith("/")]
            self.assertTrue(files)
            for path in files:
                mount = [m for m in c["volumeMounts"] if path.startswith(m["mountPath"].rstrip("/") + "/")]
                self.assertEqual(len(mount), 1, "%s is not under exactly one mounted path" % path)
                key = posixpath.relpath(path, mount[0]["mountPath"])
                volume = volumes[mount[0]["name"]]
                if "secret" in volume:
                    secret = (ms.NAMESPACE, volume["secret"]["secretName"])
                    made = ms.cert_manager_secrets(docs)
                    keys = made[secret] if secret in made else ms.secret_keys(externals[secret])
                else:
                    keys = set(configmaps[volume["configMap"]["name"]]["data"])
                self.assertIn(key, keys, "%s: the mounted object has no key %s" % (path, key))
                self.assertNotIn("subPath", mount[0], "subPath mounts never see Secret updates")

    def test_args(self):
        base = container(adapter(ms.render("manifests")))["args"]
        self.assertEqual(base, BASE_ARGS)
        self.assertEqual(container(adapter(ms.render("dev")))["args"], BASE_ARGS)
        self.assertEqual(container(adapter(ms.render("servicemonitor")))["args"], BASE_ARGS)
        self.assertEqual(container(adapter(ms.render("cert-manager")))["args"], CERT_MANAGER_ARGS)
        for _, docs in self.renders():
            for arg in container(adapter(docs))["args"]:
                self.assertFalse(arg.startswith("--insecure-allow-anonymous"), arg)

    def test_args_are_flags_of_the_adapter(self):
        flags = ms.adapter_flags()
        for _, docs in self.renders():
            for name in flag_values(container(adapter(docs))["args"]):
                self.assertIn(name, flags, "--%s is not in sysdig-metrics-adapter --help" % name)

    def test_probes_use_the_named_https_port(self):
        for _, docs in self.renders():
            c = container(adapter(docs))
            secure_port = int(flag_values(c["args"])["secure-port"])
            for probe, path in (("livenessProbe", "/livez"), ("readinessProbe", "/readyz")):
                get = c[probe]["httpGet"]
                self.assertEqual(get["path"], path)
                self.assertEqual(get["scheme"], "HTTPS")
                self.assertIsInstance(get["port"], str, "%s should name the container port" % probe)
                self.assertEqual(named_port(c, get["port"]), secure_port, probe)

    def test_security_context(self):
        for _, docs in self.renders():
            pod = adapter(docs)["spec"]["template"]["spec"]
            c = container(adapter(docs))
            pod_sc, sc = pod.get("securityContext", {}), c.get("securityContext", {})

            def effective(key):
                return sc.get(key, pod_sc.get(key))

            self.assertIs(effective("runAsNonRoot"), True)
            self.assertEqual(effective("runAsUser"), 65532)
            self.assertEqual(effective("seccompProfile"), {"type": "RuntimeDefault"})
            self.assertIs(sc.get("readOnlyRootFilesystem"), True)
            self.assertIs(sc.get("allowPrivilegeEscalation"), False)
            self.assertEqual(sc.get("capabilities"), {"drop": ["ALL"]})
            self.assertNotIn("privileged", sc)
            self.assertFalse(pod.get("hostNetwork", False))
            tmp = [m for m in c["volumeMounts"] if m["mountPath"] == "/tmp"]
            self.assertEqual(len(tmp), 1, "a writable /tmp under the read-only root filesystem")
            volume = [v for v in pod["volumes"] if v["name"] == tmp[0]["name"]][0]
            self.assertIn("emptyDir", volume)

    def test_resources_replicas_and_spreading(self):
        for name, docs in self.renders():
            d = adapter(docs)
            c = container(d)
            cpu, memory, limit = sizing_row("medium")
            self.assertEqual(c["resources"]["requests"], {"cpu": cpu, "memory": memory},
                             "requests are the medium row of docs/benchmarks.md's sizing table")
            self.assertEqual(c["resources"]["limits"], {"memory": limit})
            self.assertEqual(c["image"], "sysdig-metrics-adapter:latest")
            pod_labels = d["spec"]["template"]["metadata"]["labels"]
            terms = d["spec"]["template"]["spec"]["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
            self.assertTrue(any(t["podAffinityTerm"]["topologyKey"] == "kubernetes.io/hostname"
                                and ms.labels_match(t["podAffinityTerm"]["labelSelector"]["matchLabels"], pod_labels)
                                for t in terms))
            pdbs = ms.objects(docs, "PodDisruptionBudget")
            if name == "dev":
                self.assertEqual(d["spec"]["replicas"], 1)
                self.assertEqual(pdbs, [], "minAvailable 1 on a single replica would block node drains")
            else:
                self.assertEqual(d["spec"]["replicas"], 2)
                self.assertEqual(len(pdbs), 1)
                self.assertEqual(pdbs[0]["apiVersion"], "policy/v1")
                self.assertEqual(pdbs[0]["spec"]["minAvailable"], 1)
                self.assertTrue(ms.labels_match(pdbs[0]["spec"]["selector"]["matchLabels"], pod_labels))

    def test_servicemonitor_scrapes_the_service(self):
        docs = ms.render("servicemonitor")
        svc = ms.one(docs, "Service", ms.APP, ms.NAMESPACE)
        sm = ms.one(docs, "ServiceMonitor", ms.APP, ms.NAMESPACE)
        self.assertEqual(sm["apiVersion"], "monitoring.coreos.com/v1")
        self.assertTrue(ms.labels_match(sm["spec"]["selector"]["matchLabels"], svc["metadata"].get("labels", {})))
        self.assertIn(svc["metadata"]["namespace"], sm["spec"]["namespaceSelector"]["matchNames"])
        (endpoint,) = sm["spec"]["endpoints"]
        self.assertIn(endpoint["port"], [p["name"] for p in svc["spec"]["ports"]])
        self.assertEqual((endpoint["scheme"], endpoint["path"]), ("https", "/metrics"))
        self.assertIs(endpoint["tlsConfig"]["insecureSkipVerify"], True)
        self.assertEqual(endpoint["bearerTokenFile"], "/var/run/secrets/kubernetes.io/serviceaccount/token")
        self.assertEqual(ms.objects(ms.render("manifests"), "ServiceMonitor"), [])


class UserLogicOverlayTest(unittest.TestCase):
    """manifests/overlays/user-logic: the scripts of exec rules mounted from a ConfigMap (read-only, mode 0555)
    with the root filesystem still read-only, and a rules file the adapter loads with them in place."""

    OVERLAY = ms.MANIFESTS / "overlays" / "user-logic"

    @classmethod
    def setUpClass(cls):
        ms.require_kubectl()
        cls.docs = ms.render("user-logic")
        cls.deployment = adapter(cls.docs)

    def test_scripts_come_from_a_configmap_mounted_read_only_and_executable(self):
        pod = self.deployment["spec"]["template"]["spec"]
        c = container(self.deployment)
        (mount,) = [m for m in c["volumeMounts"] if m["mountPath"] == "/opt/metrics"]
        self.assertIs(mount.get("readOnly"), True)
        self.assertNotIn("subPath", mount)
        (volume,) = [v for v in pod["volumes"] if v["name"] == mount["name"]]
        self.assertEqual(volume["configMap"]["defaultMode"], 0o555)
        (scripts,) = [cm for cm in ms.objects(self.docs, "ConfigMap") if cm["metadata"]["name"] == volume["configMap"]["name"]]
        self.assertTrue(scripts["metadata"]["name"].startswith("sysdig-metrics-adapter-scripts-"))  # hashed: rolls pods
        self.assertIs(c["securityContext"]["readOnlyRootFilesystem"], True)
        # The example's script, unchanged.
        example = (ms.REPO / "examples" / "deployment-label" / "load_hint.sh").read_text(encoding="utf-8")
        self.assertEqual(scripts["data"]["load_hint.sh"], example)
        self.assertTrue(example.startswith("#!/bin/sh\n"), "the image has /bin/sh and no other interpreter")

    def test_every_exec_command_is_a_mounted_script_and_the_rules_load(self):
        yaml = ms.yaml_module()
        (config,) = [cm for cm in ms.objects(self.docs, "ConfigMap")
                     if cm["metadata"]["name"].startswith("sysdig-metrics-adapter-config")]
        text = config["data"]["adapter.yaml"]
        self.assertEqual(text, (self.OVERLAY / "adapter.yaml").read_text(encoding="utf-8"))
        (scripts,) = [cm for cm in ms.objects(self.docs, "ConfigMap")
                      if cm["metadata"]["name"].startswith("sysdig-metrics-adapter-scripts")]
        commands = [r["exec"]["command"][0] for r in yaml.safe_load(text)["rules"] if "exec" in r]
        self.assertTrue(commands)
        for command in commands:
            self.assertTrue(command.startswith("/opt/metrics/"), command)
            self.assertIn(command[len("/opt/metrics/"):], scripts["data"])
        # The adapter loads the rules once the scripts are where the volume puts them (here: a copy with the
        # mode the volume gives), and refuses them without the scripts.
        binary = ms.require_binary()
        with tempfile.TemporaryDirectory() as d:
            for name, body in scripts["data"].items():
                with open(os.path.join(d, name), "w", encoding="utf-8") as f:
                    f.write(body)
                os.chmod(os.path.join(d, name), 0o555)
            rules = os.path.join(d, "adapter.yaml")
            with open(rules, "w", encoding="utf-8") as f:
                f.write(text.replace("/opt/metrics/", d + "/"))
            env = dict(ms.binary_env(), SDC_TOKEN="t", CLUSTER_NAME="c")
            path = "/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/deployments.apps/kuard/requests_per_core"
            out = subprocess.run([binary, "--config=" + rules, "explain", path], capture_output=True, text=True,
                                 timeout=60, env=env)
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertIn("computed metric requests_per_core", out.stdout)
            missing = subprocess.run([binary, "--config=" + str(self.OVERLAY / "adapter.yaml"), "explain", path],
                                     capture_output=True, text=True, timeout=60, env=env)
            if not os.path.exists("/opt/metrics/load_hint.sh"):
                self.assertEqual(missing.returncode, 1)
                self.assertIn("exec.command /opt/metrics/load_hint.sh cannot be used", missing.stderr)


class SecretTemplatesTest(unittest.TestCase):
    def test_templates_and_install_guide_agree_with_the_deployment(self):
        templates = ms.external_secret_templates()
        token = templates[(ms.NAMESPACE, "sysdig-metrics-adapter-token")]
        self.assertEqual(ms.secret_keys(token), {"token"})
        cert = templates[(ms.NAMESPACE, "sysdig-metrics-adapter-serving-cert")]
        self.assertEqual(cert["type"], "kubernetes.io/tls")
        self.assertEqual(ms.secret_keys(cert), {"tls.crt", "tls.key", "ca.crt"})
        guide = (ms.REPO / "docs" / "install.md").read_text(encoding="utf-8")
        self.assertIn("create secret generic sysdig-metrics-adapter-token", guide)
        self.assertIn("--from-literal=token=", guide)
        self.assertIn("create secret tls sysdig-metrics-adapter-serving-cert", guide)


class ExamplesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        ms.require_kubectl()

    def hpas(self):
        out = {}
        for file in EXAMPLE_HPAS:
            (hpa,) = ms.load_yaml_file(ms.MANIFESTS / "examples" / file)
            out[file] = hpa
        return out

    def test_kuard(self):
        docs = ms.render("examples")
        kuard = ms.one(docs, "Deployment", "kuard")
        pod = kuard["spec"]["template"]
        self.assertEqual(pod["metadata"]["labels"], {"app": "kuard"})
        self.assertEqual(kuard["spec"]["selector"]["matchLabels"], {"app": "kuard"})
        self.assertEqual(pod["spec"]["containers"][0]["image"], "gcr.io/kuar-demo/kuard-amd64:blue")
        svc = ms.one(docs, "Service", "kuard")
        self.assertEqual(svc["spec"]["selector"], {"app": "kuard"})
        target = svc["spec"]["ports"][0]["targetPort"]
        self.assertIsNotNone(named_port(pod["spec"]["containers"][0], target))
        self.assertEqual(ms.objects(docs, "HorizontalPodAutoscaler"), [],
                         "the HPAs are applied one at a time, not with the app")

    def test_hpas_target_kuard(self):
        docs = ms.render("examples")
        kuard = ms.one(docs, "Deployment", "kuard")
        for file, hpa in self.hpas().items():
            with self.subTest(file=file):
                self.assertEqual(hpa["apiVersion"], "autoscaling/v2")
                self.assertEqual(hpa["kind"], "HorizontalPodAutoscaler")
                self.assertEqual(hpa["spec"]["scaleTargetRef"], {"apiVersion": "apps/v1", "kind": "Deployment", "name": "kuard"})
                self.assertEqual(hpa["metadata"]["namespace"], kuard["metadata"]["namespace"])
                # One name for all: applying one example replaces the previous one, since two HPAs
                # on one Deployment stop each other (AmbiguousSelector).
                self.assertEqual(hpa["metadata"]["name"], "kuard")
                self.assertEqual(len(hpa["spec"]["metrics"]), 1)

    def test_hpa_metrics(self):
        hpas = self.hpas()
        obj = hpas["hpa-object.yaml"]["spec"]["metrics"][0]
        self.assertEqual(obj["type"], "Object")
        self.assertEqual(obj["object"]["describedObject"], {"apiVersion": "v1", "kind": "Service", "name": "kuard"})
        self.assertEqual(obj["object"]["metric"]["name"], "net.http.request.count")
        self.assertEqual(obj["object"]["target"]["type"], "Value")
        self.assertIn("value", obj["object"]["target"])
        ms.one(ms.render("examples"), "Service", "kuard")
        pods = hpas["hpa-pods.yaml"]["spec"]["metrics"][0]
        self.assertEqual(pods["type"], "Pods")
        self.assertEqual(pods["pods"]["metric"]["name"], "net.http.request.count")
        self.assertEqual(pods["pods"]["target"]["type"], "AverageValue")
        self.assertIn("averageValue", pods["pods"]["target"])
        ext = hpas["hpa-external.yaml"]["spec"]["metrics"][0]
        self.assertEqual(ext["type"], "External")
        self.assertEqual(ext["external"]["metric"]["name"], "queue.depth")
        self.assertEqual(ext["external"]["metric"]["selector"], {"matchLabels": {"queue": "orders"}})
        self.assertEqual(ext["external"]["target"]["type"], "AverageValue")
        self.assertIn("averageValue", ext["external"]["target"])

    def test_rules_file_serves_the_example_metrics(self):
        # The paths the HPA controller asks for each example, run through the adapter's `explain`
        # with the shipped rules file: the file must load, and a rule must turn each path into a
        # Sysdig query (not a 404). The Pods HPA asks pods/*?labelSelector=, which needs a pod
        # list; one named pod exercises the same rule.
        binary = ms.require_binary()
        hpas = self.hpas()
        ns = hpas["hpa-object.yaml"]["metadata"]["namespace"]
        obj = hpas["hpa-object.yaml"]["spec"]["metrics"][0]["object"]
        pods = hpas["hpa-pods.yaml"]["spec"]["metrics"][0]["pods"]
        ext = hpas["hpa-external.yaml"]["spec"]["metrics"][0]["external"]
        selector = ",".join("%s=%s" % kv for kv in ext["metric"]["selector"]["matchLabels"].items())
        paths = [
            "/apis/custom.metrics.k8s.io/v1beta2/namespaces/%s/services/%s/%s"
            % (ns, obj["describedObject"]["name"], obj["metric"]["name"]),
            "/apis/custom.metrics.k8s.io/v1beta1/namespaces/%s/pods/kuard-0/%s" % (ns, pods["metric"]["name"]),
            "/apis/external.metrics.k8s.io/v1beta1/namespaces/%s/%s?labelSelector=%s"
            % (ns, ext["metric"]["name"], urllib.parse.quote(selector, safe="")),
        ]
        with tempfile.TemporaryDirectory() as tmp:
            token = os.path.join(tmp, "token")
            with open(token, "w", encoding="utf-8") as f:
                f.write("not-a-real-token\n")
            for path in paths:
                with self.subTest(path=path):
                    proc = subprocess.run(
                        [binary, "--sysdig-token-file=" + token, "--cluster-name=example",
                         "--config=" + str(ms.MANIFESTS / "base" / "config" / "adapter.yaml"), "explain", path],
                        capture_output=True, text=True, timeout=30, env=ms.binary_env())
                    self.assertEqual(proc.returncode, 0, proc.stderr)
                    self.assertTrue(proc.stdout.startswith("POST "), proc.stdout + proc.stderr)
                    self.assertIn("kube_cluster_name%3D%22example%22", proc.stdout)
                    self.assertNotIn("not-a-real-token", proc.stdout + proc.stderr)


if __name__ == "__main__":
    ms.main()
