"""manifests:render: every kustomization in manifests/ renders offline, cleanly, into well-formed
objects, and every YAML file in manifests/ is used by a kustomization or documented as standalone."""
import base64
import os
import re
import subprocess
import tempfile
import unittest

import manifest_support as ms

CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "APIService"}
# Files deliberately outside every kustomization: the Secret templates the user creates by hand,
# and the example HPAs, applied one at a time.
STANDALONE_GLOBS = ("secrets/*.yaml", "examples/hpa-*.yaml")


class RenderTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        ms.require_kubectl()

    def test_every_kustomization_renders_without_warnings(self):
        for name in ms.KUSTOMIZATIONS:
            with self.subTest(kustomization=name):
                _, stderr = ms.render_text(name)
                # kustomize warns on stderr about deprecated fields; the manifests use none.
                self.assertEqual(stderr.strip(), "", "kubectl kustomize %s printed:\n%s" % (name, stderr))
                self.assertTrue(ms.render(name), "%s renders no objects" % name)

    def test_objects_are_well_formed_and_unique(self):
        for name in ms.KUSTOMIZATIONS:
            seen = set()
            for doc in ms.render(name):
                with self.subTest(kustomization=name, object="%s/%s" % (doc.get("kind"), doc.get("metadata", {}).get("name"))):
                    self.assertIsInstance(doc.get("apiVersion"), str)
                    self.assertIsInstance(doc.get("kind"), str)
                    meta = doc.get("metadata") or {}
                    self.assertTrue(meta.get("name"))
                    if doc["kind"] in CLUSTER_SCOPED:
                        self.assertNotIn("namespace", meta, "cluster-scoped object with a namespace")
                    else:
                        self.assertTrue(meta.get("namespace"), "namespaced object without a namespace: "
                                        "`kubectl apply` would put it in the caller's current namespace")
                    key = (ms.group_of(doc), doc["kind"], meta.get("namespace"), meta["name"])
                    self.assertNotIn(key, seen, "duplicate object")
                    seen.add(key)

    def test_adapter_objects_live_in_custom_metrics(self):
        # Everything namespaced is in custom-metrics, except the RoleBinding that must sit next to
        # kube-system's extension-apiserver-authentication-reader Role.
        for name in ms.ADAPTER_RENDERS:
            for doc in ms.render(name):
                ns = doc["metadata"].get("namespace")
                if ns is None:
                    continue
                with self.subTest(kustomization=name, object="%s/%s" % (doc["kind"], doc["metadata"]["name"])):
                    if doc["kind"] == "RoleBinding" and doc["roleRef"]["name"] == "extension-apiserver-authentication-reader":
                        self.assertEqual(ns, "kube-system")
                    else:
                        self.assertEqual(ns, ms.NAMESPACE)
        self.assertTrue(ms.one(ms.render("manifests"), "Namespace", ms.NAMESPACE))

    def test_manifests_installs_exactly_the_base(self):
        self.assertEqual(ms.render_text("manifests")[0], ms.render_text("base")[0])

    def test_base_carries_no_secrets(self):
        # The Secrets are created by the user (docs/install.md): a Secret in the kustomization would
        # overwrite the real token or certificate with a placeholder on every apply.
        for name in ms.ADAPTER_RENDERS:
            with self.subTest(kustomization=name):
                self.assertEqual(ms.objects(ms.render(name), "Secret"), [])

    def test_placeholders_are_marked_and_accepted_by_the_api(self):
        docs = ms.render("manifests")
        for api in ms.objects(docs, "APIService"):
            # The adapter injects caBundle; a value here would be put back by every apply.
            self.assertNotIn("caBundle", api["spec"], api["metadata"]["name"])
        settings = [c for c in ms.objects(docs, "ConfigMap")
                    if c["metadata"]["name"].startswith("sysdig-metrics-adapter-settings")]
        self.assertEqual(len(settings), 1)
        self.assertEqual(set(settings[0]["data"]), {"sdc-endpoint", "cluster-name"})
        for key, value in settings[0]["data"].items():
            self.assertIn("REPLACE-ME", value, key)
        for (_, secret_name), secret in ms.external_secret_templates().items():
            for key, value in (secret.get("stringData") or {}).items():
                with self.subTest(secret=secret_name, key=key):
                    self.assertIn("PLACEHOLDER", value)

    def test_rules_file_is_the_configmap_content_and_has_only_known_keys(self):
        yaml = ms.yaml_module()
        source = (ms.MANIFESTS / "base" / "config" / "adapter.yaml").read_text(encoding="utf-8")
        configs = [c for c in ms.objects(ms.render("manifests"), "ConfigMap")
                   if c["metadata"]["name"].startswith("sysdig-metrics-adapter-config")]
        self.assertEqual(len(configs), 1)
        self.assertEqual(configs[0]["data"], {"adapter.yaml": source})
        rules = yaml.safe_load(source)
        self.assertLessEqual(set(rules), {"defaults", "labels", "rules"})
        self.assertTrue(rules.get("rules"))


class InstallGuideTest(unittest.TestCase):
    """The overlay docs/install.md has the reader write renders, replaces every placeholder, and the install is
    the five commands it promises, without openssl or caBundle editing."""

    VALUES = {
        "IMAGE": "registry.example.com/team/sysdig-metrics-adapter",
        "TAG": "0.1.0",
        "SDC_ENDPOINT": "https://eu1.app.sysdig.com",
        "CLUSTER_NAME": "prod-eu",
    }

    @classmethod
    def setUpClass(cls):
        ms.require_kubectl()
        cls.guide = (ms.REPO / "docs" / "install.md").read_text(encoding="utf-8")
        cls.overlays = re.findall(r'cat > "\$WORK/kustomization.yaml" <<EOF\n(.*?)\nEOF\n', cls.guide, re.DOTALL)

    def render_overlay(self, text):
        with tempfile.TemporaryDirectory() as work:
            # The guide's overlay sits next to the checkout and names it ../$(basename "$PWD").
            text = text.replace('../$(basename "$PWD")', os.path.relpath(ms.REPO, work))
            text = re.sub(r"\$\{(\w+)\}", lambda m: self.VALUES[m.group(1)], text)
            self.assertNotIn("$", text, "a shell expansion the test does not know")
            with open(os.path.join(work, "kustomization.yaml"), "w", encoding="utf-8") as f:
                f.write(text)
            proc = subprocess.run(["kubectl", "kustomize", work], capture_output=True, text=True, timeout=120,
                                  env=ms.kubectl_env())
            self.assertEqual(proc.returncode, 0, proc.stderr)
            self.assertEqual(proc.stderr.strip(), "")
            return [d for d in ms.yaml_module().safe_load_all(proc.stdout) if d]

    def check_values(self, docs):
        (deployment,) = ms.objects(docs, "Deployment")
        self.assertEqual(deployment["spec"]["template"]["spec"]["containers"][0]["image"],
                         "registry.example.com/team/sysdig-metrics-adapter:0.1.0")
        (settings,) = [c for c in ms.objects(docs, "ConfigMap")
                       if c["metadata"]["name"].startswith("sysdig-metrics-adapter-settings")]
        self.assertEqual(settings["data"], {"sdc-endpoint": "https://eu1.app.sysdig.com", "cluster-name": "prod-eu"})
        self.assertEqual(len(ms.objects(docs, "APIService")), 3)

    def test_the_overlay(self):
        self.assertEqual(len(self.overlays), 1, "docs/install.md: one overlay to write")
        docs = self.render_overlay(self.overlays[0])
        self.check_values(docs)
        for api in ms.objects(docs, "APIService"):
            self.assertNotIn("caBundle", api["spec"])
            self.assertNotIn("insecureSkipTLSVerify", api["spec"])

    def test_the_cert_manager_variant(self):
        # The guide switches the overlay's resource with sed; the result must render the same values.
        (sed,) = re.findall(r"sed -i 's\|(.*?)\|(.*?)\|'", self.guide)
        text = re.sub(sed[0].replace("$", r"(?m:$)"), sed[1], self.overlays[0], count=1)
        self.assertIn("overlays/cert-manager", text)
        docs = self.render_overlay(text)
        self.check_values(docs)
        self.assertEqual(len(ms.objects(docs, "Certificate")), 2)

    def test_the_install_is_five_commands_without_openssl(self):
        section = self.guide[self.guide.index("## Install: five commands"):self.guide.index("### When it works")]
        steps = re.findall(r"^\*\*(\d)\. ", section, re.MULTILINE)
        self.assertEqual(steps, ["1", "2", "3", "4", "5"])
        blocks = re.findall(r"```sh\n(.*?)```", section, re.DOTALL)
        self.assertEqual(len(blocks), 6, "the values, then one block per step")
        for block in blocks[1:]:
            commands = [line for line in block.split("EOF\n")[-1].splitlines() if line.strip()]
            self.assertLessEqual(len(commands), 1, block)
        self.assertNotIn("openssl", section)
        self.assertNotIn("caBundle", section)


class FilesTest(unittest.TestCase):
    def test_every_yaml_file_parses_and_is_used(self):
        yaml = ms.yaml_module()
        used = set()
        for path in ms.MANIFESTS.rglob("kustomization.yaml"):
            used.add(path)
            k = yaml.safe_load(path.read_text(encoding="utf-8"))
            for entry in k.get("resources", []):
                target = (path.parent / entry).resolve()
                if target.is_file():
                    used.add(target)
            for patch in k.get("patches", []):
                if "path" in patch:
                    used.add((path.parent / patch["path"]).resolve())
            for generator in k.get("configMapGenerator", []) + k.get("secretGenerator", []):
                for entry in generator.get("files", []):
                    used.add((path.parent / entry.split("=", 1)[-1]).resolve())
        for pattern in STANDALONE_GLOBS:
            used.update(p.resolve() for p in ms.MANIFESTS.glob(pattern))
        for path in sorted(ms.MANIFESTS.rglob("*")):
            if path.suffix not in (".yaml", ".yml"):
                continue
            with self.subTest(file=str(path.relative_to(ms.REPO))):
                ms.load_yaml_file(path)
                self.assertIn(path.resolve(), used, "not referenced by any kustomization.yaml nor standalone")


if __name__ == "__main__":
    ms.main()
