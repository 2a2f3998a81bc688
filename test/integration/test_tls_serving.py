"""The secure port serves the configured certificate, or a generated self-signed one."""
import ssl
import tempfile
import unittest

from adapter_process import Adapter
from tls_material import make_serving_pair


def served_certificate(port):
    return ssl.get_server_certificate(("127.0.0.1", port))


class TlsServingTest(unittest.TestCase):
    def test_configured_certificate_is_served(self):
        with tempfile.TemporaryDirectory() as d:
            cert, key = make_serving_pair(d, cn="configured-cert")
            with Adapter("--tls-cert-file", cert, "--tls-private-key-file", key) as a:
                with open(cert) as f:
                    expected = ssl.PEM_cert_to_DER_cert(f.read())
                self.assertEqual(ssl.PEM_cert_to_DER_cert(served_certificate(a.port)), expected)

    def test_self_signed_certificate_verifies_for_localhost(self):
        with Adapter() as a:
            pem = served_certificate(a.port)
            context = ssl.create_default_context(cadata=pem)  # trust exactly what was served
            import http.client
            conn = http.client.HTTPSConnection("localhost", a.port, context=context, timeout=10)
            conn.request("GET", "/healthz")
            self.assertEqual(conn.getresponse().status, 200)
            conn.close()

    def test_plain_http_is_not_served(self):
        import http.client
        with Adapter() as a:
            conn = http.client.HTTPConnection("127.0.0.1", a.port, timeout=5)
            try:
                conn.request("GET", "/healthz")
                status = conn.getresponse().status
            except (OSError, http.client.HTTPException):
                status = None  # the TLS server hung up on a plaintext request
            finally:
                conn.close()
            self.assertNotEqual(status, 200)
            self.assertEqual(a.get("/healthz").status, 200)


if __name__ == "__main__":
    unittest.main()
