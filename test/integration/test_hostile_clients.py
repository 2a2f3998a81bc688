"""Hostile clients against the real daemon: old TLS versions and weak ciphers are refused (with a
positive control proving the client could connect to a server that allows them), and many idle or
half-open connections do not starve normal requests."""
import os
import socket
import ssl
import subprocess
import tempfile
import time
import unittest

from adapter_process import Adapter
from tls_material import make_serving_pair

OLD_CLIENT = ["openssl", "s_client", "-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0", "-brief"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def handshake(port, *extra):
    p = subprocess.run(OLD_CLIENT + ["-connect", f"127.0.0.1:{port}", *extra], input="", capture_output=True,
                       text=True, timeout=20)
    return p.returncode, p.stdout + p.stderr


class OldTlsTest(unittest.TestCase):
    def test_tls_1_1_is_refused_while_a_tls_1_1_server_accepts_the_same_client(self):
        with tempfile.TemporaryDirectory() as d:
            cert, key = make_serving_pair(d)
            # Positive control: the same client, same options, against a server that allows TLS 1.1.
            port = free_port()
            control = subprocess.Popen(["openssl", "s_server", "-accept", f"127.0.0.1:{port}", "-tls1_1", "-cipher",
                                        "DEFAULT:@SECLEVEL=0", "-cert", cert, "-key", key, "-quiet"],
                                       stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                for _ in range(50):
                    try:
                        socket.create_connection(("127.0.0.1", port), timeout=1).close()
                        break
                    except OSError:
                        time.sleep(0.1)
                code, out = handshake(port)
                self.assertEqual(code, 0, out)
                self.assertIn("TLSv1.1", out)
            finally:
                control.kill()
                control.wait()
            with Adapter("--tls-cert-file", cert, "--tls-private-key-file", key) as a:
                code, out = handshake(a.port)
                self.assertNotEqual(code, 0, out)
                self.assertNotIn("Protocol version: TLSv1.1", out)

    def test_weak_tls_1_2_ciphers_are_refused(self):
        with Adapter() as a:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            context.maximum_version = ssl.TLSVersion.TLSv1_2
            context.set_ciphers("AES128-SHA:@SECLEVEL=0")  # RSA key exchange, CBC: no forward secrecy
            with self.assertRaises(ssl.SSLError):
                with socket.create_connection(("127.0.0.1", a.port), timeout=5) as raw:
                    with context.wrap_socket(raw):
                        pass


class SlowClientsTest(unittest.TestCase):
    def test_idle_and_half_open_connections_do_not_starve_others(self):
        with Adapter() as a:
            idle = []
            try:
                for _ in range(200):  # connected, never says a word
                    idle.append(socket.create_connection(("127.0.0.1", a.port), timeout=5))
                for _ in range(50):  # a TLS session with half a request, never finished
                    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                    context.check_hostname = False
                    context.verify_mode = ssl.CERT_NONE
                    s = context.wrap_socket(socket.create_connection(("127.0.0.1", a.port), timeout=5))
                    s.sendall(b"GET /apis HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                    idle.append(s)
                started = time.time()
                for _ in range(20):
                    self.assertEqual(a.get("/apis").status, 200)
                self.assertLess(time.time() - started, 5)
            finally:
                for s in idle:
                    s.close()


if __name__ == "__main__":
    unittest.main()
