"""The exec backend through the real daemon, with real commands (Python and sh, test/integration/exec_commands/):
values for object, pods/* and external queries; the stdin document and nothing else reaching the command; every
failure row answered with a Status (exit 1, a timeout with children that ignore SIGTERM, huge output, garbage, a
missing binary, a command that closes stdout early or never reads stdin, one killed by a signal); injection;
the value cache and the backend call slots; self-metrics; and 10,000 sequential plus 200 concurrent calls that
leave no zombie and no leaked descriptor in the daemon."""
import http.client
import json
import os
import shutil
import signal
import ssl
import tempfile
import threading
import time
import unittest
import urllib.parse

from adapter_process import Adapter, run_binary
from double_processes import KubeApiDouble

HERE = os.path.dirname(os.path.abspath(__file__))
COMMANDS = os.path.join(HERE, "exec_commands")
V2 = "/apis/custom.metrics.k8s.io/v1beta2"
EXTERNAL = "/apis/external.metrics.k8s.io/v1beta1"
KUARD = {"metadata": {"name": "kuard", "namespace": "default", "labels": {"app": "kuard", "scale-hint": "7"}},
         "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "kuard"}}}, "status": {"replicas": 3}}


def rules(canary):
    record = os.path.join(COMMANDS, "record_and_answer.py")
    failures = os.path.join(COMMANDS, "failures.sh")
    text = f"""rules:
  - metric: queue_age
    resources: [services, deployments.apps, pods]
    cacheTTL: 0s
    exec:
      command: ["{record}", "--queue-label", "queue; $(touch {canary})"]
      timeout: 20s
      env: [RECORD_FILE]
  - metric: cached_age
    resources: [services]
    exec:
      command: ["{record}", "--sleep", "0.5"]
      timeout: 20s
      env: [RECORD_FILE]
  - metric: scale_hint
    resources: [deployments.apps]
    cacheTTL: 0s
    exec:
      command: ["{os.path.join(COMMANDS, "deployment_label.py")}", scale-hint]
      input: object
  - metric: fast
    resources: [services]
    cacheTTL: 0s
    exec:
      command: ["{os.path.join(COMMANDS, "fast_value.sh")}"]
  - external: vendor_backlog
    cacheTTL: 0s
    exec:
      command: ["{record}"]
      env: [RECORD_FILE]
"""
    for case, timeout in [("exit-1", "20s"), ("control-chars", "20s"), ("ignore-term", "500ms"), ("huge", "20s"),
                          ("garbage", "20s"), ("close-stdout", "20s"), ("never-read", "20s"), ("killed", "20s")]:
        text += f"""  - metric: fail_{case.replace("-", "_")}
    resources: [services]
    cacheTTL: 0s
    exec:
      command: ["{failures}", {case}]
      timeout: {timeout}
      env: [RECORD_FILE]
"""
    return text


def not_running(pid):
    """Gone, or a zombie waiting for a parent that is not the daemon."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def children_of(pid):
    """(pid, state) of every process whose parent is pid."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append((int(entry), fields[0]))
    return out


def descriptors(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def eventually(condition, limit=10.0):
    deadline = time.time() + limit
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


class ExecCase(unittest.TestCase):
    FLAGS = ()

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.record = os.path.join(cls.tmp.name, "record.jsonl")
        cls.canary = os.path.join(cls.tmp.name, "injected")
        cls.config = os.path.join(cls.tmp.name, "adapter.yaml")
        with open(cls.config, "w") as f:
            f.write(rules(cls.canary))
        cls.kube = KubeApiDouble()
        cls.kube.control("POST", "objects", {"deployments": [KUARD]})
        cls.kubeconfig = cls.kube.write_kubeconfig(os.path.join(cls.tmp.name, "kubeconfig"))
        cls.adapter = Adapter("--config", cls.config, "--kubeconfig", cls.kubeconfig, *cls.FLAGS,
                              env={"RECORD_FILE": cls.record, "ADAPTER_SECRET": "must-not-reach-commands"})

    @classmethod
    def tearDownClass(cls):
        try:
            cls.adapter.stop()
        finally:
            cls.kube.stop()
            cls.tmp.cleanup()

    def setUp(self):
        if os.path.exists(self.record):
            os.remove(self.record)

    def records(self):
        if not os.path.exists(self.record):
            return []
        with open(self.record) as f:
            return [json.loads(line) for line in f if line.startswith("{")]

    def get(self, path):
        return self.adapter.get(path)

    def ok(self, path):
        r = self.get(path)
        self.assertEqual(r.status, 200, r.body)
        return r.json()

    def status(self, path, code):
        r = self.get(path)
        self.assertEqual(r.status, code, r.body)
        body = r.json()
        self.assertEqual(body["kind"], "Status")
        return body["message"]


class ExecValuesTest(ExecCase):
    def test_object_query_sends_the_document_and_serves_the_value(self):
        doc = self.ok(V2 + "/namespaces/default/services/kuard/queue_age?metricLabelSelector=queue%3Dorders")
        (item,) = doc["items"]
        self.assertEqual(item["value"], "5500m")  # len("kuard") + 0.5
        self.assertEqual(item["describedObject"], {"kind": "Service", "namespace": "default", "name": "kuard",
                                                   "apiVersion": "/v1"})
        self.assertNotIn("windowSeconds", item)  # the command did not say over what time
        (record,) = self.records()
        stdin = record["stdin"]
        self.assertEqual(stdin["version"], 1)
        self.assertEqual(stdin["kind"], "object")
        self.assertEqual(stdin["rule"], self.config + ":2")
        self.assertEqual((stdin["namespace"], stdin["resource"], stdin["name"], stdin["metric"]),
                         ("default", "services", "kuard", "queue_age"))
        self.assertEqual(stdin["metricSelector"], {"string": "queue=orders", "matchLabels": {"queue": "orders"}})
        self.assertGreater(stdin["timeoutMillis"], 0)
        self.assertLessEqual(stdin["timeoutMillis"], 10000)  # cut to the request's deadline (--request-timeout 10s)
        self.assertTrue(stdin["deadline"].endswith("Z"))
        # Only what the rule passes: argv as configured, RECORD_FILE and nothing else (Python adds LC_CTYPE).
        self.assertEqual(record["argv"], ["--queue-label", "queue; $(touch %s)" % self.canary])
        self.assertEqual([k for k in record["env"] if k != "LC_CTYPE"], ["RECORD_FILE"])
        self.assertEqual(record["cwd"], "/")
        self.assertFalse(os.path.exists(self.canary))

    def test_pods_selector_lists_pods_and_answers_per_pod(self):
        doc = self.ok(V2 + "/namespaces/default/pods/*/queue_age?labelSelector=app%3Dkuard,tier%3Dfrontend")
        self.assertEqual([(i["describedObject"]["name"], i["value"]) for i in doc["items"]],
                         [("kuard-7d4f-1", "1"), ("kuard-7d4f-2", "2"), ("kuard-7d4f-3", "3")])
        (record,) = self.records()
        stdin = record["stdin"]
        self.assertEqual(stdin["kind"], "selector")
        self.assertEqual(stdin["names"], ["kuard-7d4f-1", "kuard-7d4f-2", "kuard-7d4f-3"])
        self.assertEqual(stdin["labelSelector"]["matchLabels"], {"app": "kuard", "tier": "frontend"})
        # A selector no pod matches: the command is not run.
        self.assertEqual(self.ok(V2 + "/namespaces/default/pods/*/queue_age?labelSelector=app%3Dnone")["items"], [])
        self.assertEqual(len(self.records()), 1)

    def test_external_query(self):
        doc = self.ok(EXTERNAL + "/namespaces/default/vendor_backlog?labelSelector=queue%20in%20(orders)")
        self.assertEqual([(i["metricLabels"], i["value"]) for i in doc["items"]], [({"queue": "orders"}, "42")])
        (record,) = self.records()
        self.assertEqual(record["stdin"]["kind"], "external")
        self.assertEqual(record["stdin"]["metricSelector"]["matchExpressions"],
                         [{"key": "queue", "operator": "In", "values": ["orders"]}])
        self.assertNotIn("resource", record["stdin"])

    def test_input_object_reads_the_deployment_through_the_kubernetes_api(self):
        doc = self.ok(V2 + "/namespaces/default/deployments.apps/kuard/scale_hint")
        self.assertEqual(doc["items"][0]["value"], "7")
        self.assertEqual(doc["items"][0]["describedObject"]["apiVersion"], "apps/v1")
        asked = [r for r in self.kube.requests() if r["path"] == "/apis/apps/v1/namespaces/default/deployments/kuard"]
        self.assertTrue(asked)
        message = self.status(V2 + "/namespaces/default/deployments.apps/gone/scale_hint", 404)
        self.assertIn("/apis/apps/v1/namespaces/default/deployments/gone", message)

    def test_discovery_lists_exec_metrics(self):
        names = {r["name"] for r in self.ok(V2)["resources"]}
        self.assertIn("services/queue_age", names)
        self.assertIn("deployments.apps/scale_hint", names)
        self.assertIn("vendor_backlog", {r["name"] for r in self.ok(EXTERNAL)["resources"]})

    @unittest.skipUnless(shutil.which("kubectl"), "kubectl is installed by scripts/install-deps.sh")
    def test_through_kubectl_get_raw(self):
        p = self.adapter.kubectl_get_raw(V2 + "/namespaces/default/deployments.apps/kuard/scale_hint", self.tmp.name)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(json.loads(p.stdout)["items"][0]["value"], "7")


class ExecFailuresTest(ExecCase):
    def test_exit_status_is_503_with_the_first_line_of_stderr(self):
        message = self.status(V2 + "/namespaces/default/services/kuard/fail_exit_1", 503)
        self.assertIn("exited with status 1: queue orders not found on rabbitmq.example:5672", message)
        self.assertIn("adapter.yaml:", message)
        self.assertNotIn("second line", message)

    def test_stderr_is_escaped(self):
        message = self.status(V2 + "/namespaces/default/services/kuard/fail_control_chars", 503)
        self.assertIn("exited with status 2: bad\\x1b[31m red \\x01 text", message)

    def test_timeout_kills_the_whole_group_even_what_ignores_sigterm(self):
        started = time.time()
        message = self.status(V2 + "/namespaces/default/services/kuard/fail_ignore_term", 503)
        self.assertLess(time.time() - started, 8)
        self.assertIn("did not finish within 500ms (the rule's exec.timeout); its process group was killed", message)
        pids = []
        with open(self.record) as f:
            pids = [int(line) for line in f if line.strip().isdigit()]
        self.assertEqual(len(pids), 2, pids)
        for pid in pids:
            self.assertTrue(eventually(lambda: not_running(pid)), f"process {pid} still runs")

    def test_huge_output_is_500(self):
        message = self.status(V2 + "/namespaces/default/services/kuard/fail_huge", 500)
        self.assertIn("printed more than 1048576 bytes on stdout; its process group was killed", message)

    def test_garbage_is_500(self):
        message = self.status(V2 + "/namespaces/default/services/kuard/fail_garbage", 500)
        self.assertIn("printed what is not a value: the output is not one Kubernetes quantity", message)
        self.assertIn("<html>", message)

    def test_closing_stdout_early_is_no_value(self):
        message = self.status(V2 + "/namespaces/default/services/kuard/fail_close_stdout", 404)
        self.assertIn("printed no value", message)

    def test_a_command_that_never_reads_stdin_still_answers(self):
        self.assertEqual(self.ok(V2 + "/namespaces/default/services/kuard/fail_never_read")["items"][0]["value"], "5")

    def test_killed_by_a_signal_is_503(self):
        message = self.status(V2 + "/namespaces/default/services/kuard/fail_killed", 503)
        self.assertIn("was killed by SIGKILL", message)

    def test_self_metrics_count_calls_by_rule_and_outcome(self):
        self.get(V2 + "/namespaces/default/services/kuard/fail_exit_1")
        self.get(V2 + "/namespaces/default/services/kuard/fail_garbage")
        metrics = self.adapter.get("/metrics").body
        rule_of = {}
        with open(self.config) as f:
            lines = f.read().splitlines()
        for number, line in enumerate(lines, 1):
            if "metric: fail_exit_1" in line:
                rule_of["exit"] = f"{self.config}:{number}"
            if "metric: fail_garbage" in line:
                rule_of["garbage"] = f"{self.config}:{number}"
        self.assertRegex(metrics, r'sysdig_metrics_adapter_exec_calls_total\{outcome="exit_status",rule="%s"\} [1-9]'
                         % rule_of["exit"])
        self.assertRegex(metrics, r'sysdig_metrics_adapter_exec_output_rejected_total\{rule="%s"\} [1-9]'
                         % rule_of["garbage"])
        self.assertIn('sysdig_metrics_adapter_exec_call_duration_seconds_count{rule="%s"}' % rule_of["exit"], metrics)
        self.assertRegex(metrics, r'sysdig_metrics_adapter_backend_requests_total\{backend="exec",outcome="error"\}')


class ExecInjectionTest(ExecCase):
    FLAGS = ("--legacy-workload-names",)

    HOSTILE = ['a"b', "$(touch%20x)", "a;b", "a%0Ab", "`id`", "a'b", "a\\b", "..", "a%20b", "a$b"]

    def test_hostile_names_are_refused_before_any_command_runs(self):
        for bad in self.HOSTILE:
            for path in [V2 + f"/namespaces/default/services/{bad}/queue_age",
                         V2 + f"/namespaces/{bad}/services/kuard/queue_age",
                         V2 + f"/namespaces/default/services/kuard/{bad}",
                         V2 + "/namespaces/default/pods/*/queue_age?labelSelector=app%3D" + urllib.parse.quote(bad),
                         V2 + "/namespaces/default/services/kuard/queue_age?metricLabelSelector=q%3D" +
                         urllib.parse.quote(bad),
                         EXTERNAL + "/namespaces/default/vendor_backlog?labelSelector=q%3D" + urllib.parse.quote(bad)]:
                with self.subTest(path=path):
                    r = self.get(path)
                    self.assertIn(r.status, (400, 404), r.body)
        self.assertEqual(self.records(), [])
        self.assertFalse(os.path.exists(self.canary))

    def test_what_gets_through_reaches_the_command_only_inside_json(self):
        # A legacy workload name carries a ';'; selectors carry parentheses, '!' and commas.
        self.ok(V2 + "/namespaces/default/deployments.apps/deployment;kuard/queue_age"
                "?metricLabelSelector=" + urllib.parse.quote("queue notin (a,b),!dead,tier"))
        self.ok(EXTERNAL + "/namespaces/default/vendor_backlog?labelSelector=" + urllib.parse.quote("queue,!x"))
        records = self.records()
        self.assertEqual(len(records), 2)
        self.assertEqual(records[0]["stdin"]["name"], "deployment;kuard")
        self.assertEqual(records[0]["stdin"]["metricSelector"]["string"], "!dead,queue notin (a,b),tier")
        for record in records:
            self.assertEqual(record["argv"][:2], ["--queue-label", "queue; $(touch %s)" % self.canary]
                             if record["stdin"]["kind"] == "object" else [])
            self.assertEqual([k for k in record["env"] if k != "LC_CTYPE"], ["RECORD_FILE"])
        self.assertFalse(os.path.exists(self.canary))


class ExecCacheAndSlotsTest(ExecCase):
    FLAGS = ("--max-backend-concurrency", "1")

    def test_identical_calls_are_cached_and_coalesced(self):
        results = []

        def one():
            results.append(self.get(V2 + "/namespaces/default/services/coalesced/cached_age").status)

        threads = [threading.Thread(target=one) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(results, [200] * 8)
        self.assertEqual(self.ok(V2 + "/namespaces/default/services/coalesced/cached_age")["items"][0]["value"],
                         "9500m")
        self.assertEqual(len(self.records()), 1)  # one run for all nine: same rule, same document
        self.ok(V2 + "/namespaces/default/services/other/cached_age")
        self.assertEqual(len(self.records()), 2)  # another object, another document

    def test_a_call_waits_for_a_backend_slot(self):
        # One slot: a slow call holds it; a second, different call waits for it, then runs.
        results = {}

        def slow(name):
            results[name] = self.get(V2 + f"/namespaces/default/services/{name}/cached_age").status

        threads = [threading.Thread(target=slow, args=(n,)) for n in ("slot-a", "slot-b")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(results, {"slot-a": 200, "slot-b": 200})
        runs = sorted(self.records(), key=lambda r: r["stdin"]["name"])
        self.assertEqual(len(runs), 2)
        metrics = self.adapter.get("/metrics").body
        self.assertIn("sysdig_metrics_adapter_backend_calls_waiting_for_slot 0", metrics)


class ExecStartTest(unittest.TestCase):
    def write(self, directory, text):
        path = os.path.join(directory, "adapter.yaml")
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_a_missing_or_non_executable_command_refuses_to_start(self):
        with tempfile.TemporaryDirectory() as d:
            plain = os.path.join(d, "not-executable.sh")
            with open(plain, "w") as f:
                f.write("#!/bin/sh\necho 1\n")
            os.chmod(plain, 0o644)
            for command, problem in [("/nonexistent/queue-age.py", "cannot be used: No such file or directory"),
                                     (plain, "is not executable by this process"),
                                     ("queue-age.py", "must start with an absolute path")]:
                if problem.startswith("is not executable") and os.geteuid() == 0:
                    continue  # root may run it: its x bits are not checked by access()
                config = self.write(d, f"rules:\n  - metric: m\n    exec:\n      command: [\"{command}\"]\n")
                code, _, err = run_binary("--insecure-allow-anonymous", "--secure-port", "0", "--config", config)
                self.assertEqual(code, 1, err)
                self.assertIn(f"{config}:4: exec.command", err)
                self.assertIn(problem, err)

    def test_a_command_removed_after_start_is_503(self):
        with tempfile.TemporaryDirectory() as d:
            script = os.path.join(d, "value.sh")
            shutil.copy(os.path.join(COMMANDS, "fast_value.sh"), script)
            config = self.write(d, f"rules:\n  - metric: m\n    cacheTTL: 0s\n    exec:\n      command: [\"{script}\"]\n")
            with Adapter("--config", config) as adapter:
                self.assertEqual(adapter.get(V2 + "/namespaces/default/services/s/m").status, 200)
                os.remove(script)
                r = adapter.get(V2 + "/namespaces/default/services/s/m")
                self.assertEqual(r.status, 503, r.body)
                self.assertIn("could not be started: " + script + ": No such file or directory", r.json()["message"])


class ExecReloadTest(unittest.TestCase):
    def test_a_reload_adds_exec_rules_and_refuses_a_missing_command(self):
        with tempfile.TemporaryDirectory() as d:
            config = os.path.join(d, "adapter.yaml")

            def write(text):
                with open(config + ".tmp", "w") as f:
                    f.write(text)
                os.replace(config + ".tmp", config)

            write("rules:\n  - metric: pushed\n    backend: push\n")
            with Adapter("--config", config) as adapter:
                path = V2 + "/namespaces/default/services/s/fast"
                self.assertEqual(adapter.get(path).status, 404)
                write(f"rules:\n  - metric: fast\n    cacheTTL: 0s\n    exec:\n      command: "
                      f"[\"{os.path.join(COMMANDS, 'fast_value.sh')}\"]\n")
                adapter.proc.send_signal(signal.SIGHUP)
                self.assertTrue(eventually(lambda: adapter.get(path).status == 200))
                write("rules:\n  - metric: fast\n    exec:\n      command: [\"/nonexistent/fast.sh\"]\n")
                adapter.proc.send_signal(signal.SIGHUP)
                self.assertTrue(eventually(lambda: any("reload rejected" in line for line in adapter.log_lines)))
                rejected = [json.loads(line) for line in adapter.log_lines if "reload rejected" in line]
                self.assertIn(f"{config}:4: exec.command /nonexistent/fast.sh cannot be used", rejected[-1]["error"])
                self.assertEqual(adapter.get(path).status, 200)  # the rules in force stay


class ExecRequestDeadlineTest(unittest.TestCase):
    def test_past_the_request_deadline_the_answer_is_504(self):
        with tempfile.TemporaryDirectory() as d:
            config = os.path.join(d, "adapter.yaml")
            with open(config, "w") as f:
                f.write(f"""rules:
  - metric: slow
    cacheTTL: 0s
    exec:
      command: ["{os.path.join(COMMANDS, "failures.sh")}", ignore-term]
      timeout: 30s
      env: [RECORD_FILE]
""")
            record = os.path.join(d, "pids")
            with Adapter("--config", config, "--request-timeout", "1s", env={"RECORD_FILE": record}) as adapter:
                started = time.time()
                r = adapter.get(V2 + "/namespaces/default/services/s/slow")
                self.assertLess(time.time() - started, 8)
                self.assertEqual(r.status, 504, r.body)
                self.assertIn("what was left of the request's deadline, --request-timeout", r.json()["message"])
                with open(record) as f:
                    pids = [int(line) for line in f if line.strip().isdigit()]
                for pid in pids:
                    self.assertTrue(eventually(lambda: not_running(pid)), f"process {pid} still runs")


class ExecLoadTest(unittest.TestCase):
    """10,000 calls one after the other and 200 at once: every answer right, and afterwards the daemon has the
    descriptors it had before and no child process (no zombie)."""

    SEQUENTIAL = 10000
    CONCURRENT = 200

    def test_no_zombie_and_no_descriptor_left_behind(self):
        with tempfile.TemporaryDirectory() as d:
            config = os.path.join(d, "adapter.yaml")
            with open(config, "w") as f:
                f.write(f"""rules:
  - metric: fast
    cacheTTL: 0s
    exec:
      command: ["{os.path.join(COMMANDS, "fast_value.sh")}"]
""")
            with Adapter("--config", config) as adapter:
                pid = adapter.proc.pid
                path = V2 + "/namespaces/default/services/s/fast"
                self.assertEqual(adapter.get(path).status, 200)  # warm-up
                self.assertTrue(eventually(lambda: not children_of(pid)))
                baseline = descriptors(pid)

                context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
                conn = http.client.HTTPSConnection("127.0.0.1", adapter.port, context=context, timeout=30)
                wrong = 0
                started = time.time()
                for _ in range(self.SEQUENTIAL):
                    conn.request("GET", path)
                    r = conn.getresponse()
                    body = r.read()
                    if r.status != 200 or b'"value":"1"' not in body:
                        wrong += 1
                conn.close()
                sequential_seconds = time.time() - started
                self.assertEqual(wrong, 0)

                statuses = []
                lock = threading.Lock()
                barrier = threading.Barrier(self.CONCURRENT)

                def one():
                    barrier.wait()
                    r = adapter.get(path)
                    with lock:
                        statuses.append(r.status)

                threads = [threading.Thread(target=one) for _ in range(self.CONCURRENT)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                self.assertEqual(statuses, [200] * self.CONCURRENT)

                self.assertTrue(eventually(lambda: not children_of(pid)), children_of(pid))
                # Connections of the concurrent clients close asynchronously: wait for the count to settle.
                self.assertTrue(eventually(lambda: descriptors(pid) <= baseline + 2, limit=20),
                                f"{descriptors(pid)} descriptors after, {baseline} before")
                metrics = adapter.get("/metrics").body
                calls = [line for line in metrics.splitlines()
                         if line.startswith("sysdig_metrics_adapter_exec_calls_total{outcome=\"success\"")]
                self.assertEqual(len(calls), 1)
                self.assertEqual(float(calls[0].split()[-1]), self.SEQUENTIAL + self.CONCURRENT + 1)
                print(f"\n{self.SEQUENTIAL} sequential calls in {sequential_seconds:.1f} s; descriptors before "
                      f"{baseline}, after {descriptors(pid)}; children after: {len(children_of(pid))}")


if __name__ == "__main__":
    unittest.main()
