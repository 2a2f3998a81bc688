"""The daemon wired to a Sysdig double and a Kubernetes API double (for pods/*), everything on loopback: what
most backend tests start."""
import os
import tempfile

from adapter_process import Adapter
from double_processes import KubeApiDouble, SysdigDouble


class AdapterStack:
    """`sysdig`, `kube` and `adapter` (with --kubeconfig and the Sysdig environment, cluster "prod"); stop() ends
    all three. `sysdig_path` is appended to the double's URL for SDC_ENDPOINT (e.g. "/api/")."""

    def __init__(self, *flags, sysdig_path=""):
        self.tmp = tempfile.TemporaryDirectory()
        self.sysdig = SysdigDouble()
        self.kube = KubeApiDouble()
        try:
            kubeconfig = self.kube.write_kubeconfig(os.path.join(self.tmp.name, "kubeconfig"))
            self.adapter = Adapter("--kubeconfig", kubeconfig, *flags,
                                   env={"SDC_ENDPOINT": self.sysdig.url + sysdig_path, "SDC_TOKEN": SysdigDouble.TOKEN,
                                        "CLUSTER_NAME": "prod"})
        except BaseException:
            self._stop_doubles()
            raise

    def stop(self):
        try:
            self.adapter.stop()
        finally:
            self._stop_doubles()

    def _stop_doubles(self):
        try:
            self.sysdig.stop()
            self.kube.stop()
        finally:
            self.tmp.cleanup()
