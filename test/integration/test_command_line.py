"""Flags, start-up refusals and shutdown of the real binary."""
import os
import tempfile
import unittest

from adapter_process import Adapter, run_binary


class CommandLineTest(unittest.TestCase):
    def test_help_lists_every_flag(self):
        code, out, _ = run_binary("--help")
        self.assertEqual(code, 0)
        for flag in ("--secure-port", "--bind-address", "--tls-cert-file", "--tls-private-key-file",
                     "--insecure-allow-anonymous", "--backend", "--push-ttl", "--log-level"):
            self.assertIn(flag, out)
        self.assertIn("(default 6443)", out)
        self.assertIn("(default 10m0s)", out)

    def test_bad_flags_exit_non_zero_with_one_line(self):
        for args, fragment in [
            (["--no-such-flag"], "unknown flag --no-such-flag"),
            (["--secure-port", "70000"], "--secure-port"),
            (["--secure-port"], "needs a value"),
            (["--push-ttl", "10"], "--push-ttl"),
            (["--push-ttl=5x"], "--push-ttl"),
            (["--insecure-allow-anonymous=maybe"], "true or false"),
            (["--backend", "nope", "--insecure-allow-anonymous"], "unknown --backend"),
            (["--backend-max-body", "16MB", "--insecure-allow-anonymous"], "invalid --backend-max-body"),
            (["--backend-max-body", "0", "--insecure-allow-anonymous"], "invalid --backend-max-body"),
            (["serve-me"], "unknown command"),
            (["--insecure-allow-anonymous", "--tls-cert-file", "/x.pem"], "must be given together"),
        ]:
            with self.subTest(args=args):
                code, out, err = run_binary(*args)
                self.assertNotEqual(code, 0)
                self.assertIn(fragment, err)
                self.assertEqual(len(err.strip().splitlines()), 1, err)

    def test_refuses_to_start_without_authentication(self):
        code, _, err = run_binary("--secure-port", "0")
        self.assertEqual(code, 1)
        self.assertIn("--insecure-allow-anonymous", err)
        self.assertIn("no authentication", err)

    def test_unreadable_certificate_exits_with_reason(self):
        with tempfile.TemporaryDirectory() as d:
            cert = os.path.join(d, "missing.crt")
            key = os.path.join(d, "missing.key")
            code, _, err = run_binary("--insecure-allow-anonymous", "--secure-port", "0",
                                      "--tls-cert-file", cert, "--tls-private-key-file", key)
            self.assertEqual(code, 1)
            self.assertIn("missing.crt", err)

    def test_anonymous_mode_warns_at_start(self):
        with Adapter() as a:
            self.assertTrue(any('"level":"warning"' in l and "without authentication" in l for l in a.log_lines))

    def test_sigterm_exits_zero_and_readiness_was_up(self):
        a = Adapter()
        self.assertEqual(a.get("/readyz").status, 200)
        self.assertEqual(a.get("/healthz").body, "ok")
        self.assertEqual(a.get("/livez").status, 200)
        self.assertEqual(a.stop(), 0)


if __name__ == "__main__":
    unittest.main()
