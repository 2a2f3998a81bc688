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


class CertificateAuthority:
    """A throwaway CA made with the openssl command line; it signs client certificates."""

    def __init__(self, directory, name):
        self.directory = directory
        self.name = name
        self.cert = os.path.join(directory, f"{name}-ca.crt")
        self.key = os.path.join(directory, f"{name}-ca.key")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-keyout", self.key, "-out", self.cert, "-days", "2", "-subj", f"/CN={name}-ca",
                        "-addext", "basicConstraints=critical,CA:TRUE",
                        "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
                       check=True, capture_output=True)

    def pem(self):
        with open(self.cert) as f:
            return f.read()

    def issue_client(self, common_name, organizations=()):
        """A client certificate (extendedKeyUsage clientAuth); returns (cert, key) paths."""
        base = os.path.join(self.directory, f"{self.name}-{common_name}".replace(":", "_"))
        key, csr, cert, ext = base + ".key", base + ".csr", base + ".crt", base + ".ext"
        subject = "".join(f"/O={o}" for o in organizations) + f"/CN={common_name}"
        subprocess.run(["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                        "-keyout", key, "-out", csr, "-subj", subject], check=True, capture_output=True)
        with open(ext, "w") as f:
            f.write("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n")
        subprocess.run(["openssl", "x509", "-req", "-in", csr, "-CA", self.cert, "-CAkey", self.key,
                        "-CAcreateserial", "-out", cert, "-days", "2", "-extfile", ext],
                       check=True, capture_output=True)
        return cert, key
