"""Generates throwaway certificates with the openssl command line for the tests."""
import os
import subprocess


def make_serving_pair(directory, cn="localhost"):
    """A self-signed ECDSA serving certificate for localhost/127.0.0.1; returns (cert, key) paths."""
    cert = os.path.join(directory, "serving.crt")
    key = os.path.join(directory, "serving.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", f"/CN={cn}",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, capture_output=True)
    return cert, key
