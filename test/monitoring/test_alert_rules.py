"""monitoring:rules: the alert rules with Debian's promtool. The plain rules file and the rules embedded in the
servicemonitor overlay's PrometheusRule both pass `promtool check rules` and the unit tests of
alert-rules-test.yaml (every alert fired by one series history and not by another); the PrometheusRule is exactly what
make_prometheusrule.py makes of the rules file; every alert has a summary, a description and a runbook_url whose
section in docs/runbooks.md exists and says what the user sees, how to confirm and the fix."""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

import monitoring_files as mf

ALERT_NAME = re.compile(r"SysdigMetricsAdapter[A-Za-z]+")


def promtool(*args, cwd=None):
    p = subprocess.run(["promtool", *args], capture_output=True, text=True, timeout=120, cwd=cwd)
    return p.returncode, p.stdout + p.stderr


@unittest.skipUnless(shutil.which("promtool"), "promtool comes with Debian's prometheus (scripts/install-deps.sh)")
class PromtoolTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        yaml = mf.yaml_module()
        with open(mf.PROMETHEUS_RULE, encoding="utf-8") as f:
            cls.prometheus_rule = yaml.safe_load(f)
        # The rules as the Prometheus Operator hands them to Prometheus: spec as a rules file.
        cls.embedded = os.path.join(cls.tmp.name, "embedded.rules.yaml")
        with open(cls.embedded, "w", encoding="utf-8") as f:
            yaml.safe_dump(cls.prometheus_rule["spec"], f, sort_keys=False)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_check_rules_file(self):
        code, out = promtool("check", "rules", mf.RULES)
        self.assertEqual(code, 0, out)
        self.assertIn(f"SUCCESS: {len(mf.alerts(mf.load_rules()))} rules found", out)

    def test_check_rules_embedded_in_the_prometheusrule(self):
        code, out = promtool("check", "rules", self.embedded)
        self.assertEqual(code, 0, out)

    def test_unit_tests_of_the_rules_file(self):
        code, out = promtool("test", "rules", mf.RULES_TEST)
        self.assertEqual(code, 0, out)
        self.assertIn("SUCCESS", out)

    def test_unit_tests_of_the_embedded_rules(self):
        with open(mf.RULES_TEST, encoding="utf-8") as f:
            text = f.read()
        source = "../../deploy/monitoring/alert-rules.yaml"
        self.assertIn(f"  - {source}\n", text)
        copy = os.path.join(self.tmp.name, "embedded-test.yaml")
        with open(copy, "w", encoding="utf-8") as f:
            f.write(text.replace(f"  - {source}\n", f"  - {self.embedded}\n"))
        code, out = promtool("test", "rules", copy)
        self.assertEqual(code, 0, out)


class OneSourceTest(unittest.TestCase):
    def test_prometheusrule_is_generated_from_the_rules_file(self):
        p = subprocess.run([sys.executable, mf.MAKE_PROMETHEUS_RULE, "--check"], capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_same_rules_once_parsed(self):
        yaml = mf.yaml_module()
        with open(mf.PROMETHEUS_RULE, encoding="utf-8") as f:
            rule = yaml.safe_load(f)
        self.assertEqual((rule["apiVersion"], rule["kind"]), ("monitoring.coreos.com/v1", "PrometheusRule"))
        self.assertEqual(rule["metadata"]["namespace"], "custom-metrics")
        self.assertEqual(rule["spec"], mf.load_rules())

    def test_overlay_installs_it(self):
        with open(os.path.join(os.path.dirname(mf.PROMETHEUS_RULE), "kustomization.yaml"), encoding="utf-8") as f:
            self.assertIn("prometheusrule.yaml", mf.yaml_module().safe_load(f)["resources"])


class AlertsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.alerts = mf.alerts(mf.load_rules())
        with open(mf.RUNBOOKS, encoding="utf-8") as f:
            cls.runbooks = f.read()
        # "## Name" sections of docs/runbooks.md.
        cls.sections = dict(re.findall(r"^## (\S+)\n(.*?)(?=^## |\Z)", cls.runbooks, re.S | re.M))

    def test_names_are_unique_and_severities_known(self):
        names = [a["alert"] for a in self.alerts]
        self.assertEqual(len(names), len(set(names)))
        for a in self.alerts:
            with self.subTest(alert=a["alert"]):
                self.assertRegex(a["alert"], ALERT_NAME)
                self.assertIn(a["labels"]["severity"], ("critical", "warning"))
                self.assertIn("for", a, "an alert without `for` fires on one bad evaluation")

    def test_annotations_and_runbook_sections(self):
        for a in self.alerts:
            name = a["alert"]
            with self.subTest(alert=name):
                ann = a["annotations"]
                self.assertTrue(ann.get("summary", "").strip())
                self.assertTrue(ann.get("description", "").strip())
                self.assertEqual(ann["runbook_url"], f"docs/runbooks.md#{name.lower()}")
                self.assertTrue(os.path.exists(os.path.join(mf.REPO, ann["runbook_url"].split("#")[0])))
                section = self.sections.get(name)
                self.assertIsNotNone(section, f"docs/runbooks.md has no section '## {name}'")
                for part in ("**What the user sees**", "**Confirm**", "**Fix**"):
                    self.assertIn(part, section)
                self.assertIn("kubectl describe hpa", section + self.runbooks)

    def test_no_runbook_for_an_alert_that_does_not_exist(self):
        names = {a["alert"] for a in self.alerts}
        self.assertEqual(set(n for n in self.sections if ALERT_NAME.fullmatch(n)), names)

    def test_every_alert_has_a_firing_and_a_quiet_unit_test(self):
        with open(mf.RULES_TEST, encoding="utf-8") as f:
            tests = mf.yaml_module().safe_load(f)["tests"]
        fired, quiet = set(), set()
        for test in tests:
            for case in test.get("alert_rule_test", []):
                (fired if case.get("exp_alerts") else quiet).add(case["alertname"])
        names = {a["alert"] for a in self.alerts}
        self.assertEqual(names - fired, set(), "alerts no unit test fires")
        self.assertEqual(names - quiet, set(), "alerts without a history that must not fire them")
        self.assertEqual((fired | quiet) - names, set(), "tests of alerts that do not exist")

    def test_metric_names_are_the_adapters_or_known(self):
        """The daemon-side check is in test_against_prometheus; here: every name is ours or listed as someone else's."""
        for a in self.alerts:
            for name in mf.metric_names(a["expr"]):
                with self.subTest(alert=a["alert"], metric=name):
                    self.assertTrue(name.startswith("sysdig_metrics_adapter_") or name in mf.NOT_FROM_THE_ADAPTER)


if __name__ == "__main__":
    unittest.main()
