"""bench:plot: bench/plot_benchmark.py draws the recorded run (docs/images/benchmark.json) into a 1600 x 700 PNG,
and refuses a run without the numbers it draws. Run with Debian's python3, which has python3-matplotlib."""
import json
import os
import struct
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "plot_benchmark.py")
RECORDED = os.path.join(HERE, "..", "docs", "images", "benchmark.json")

try:
    import matplotlib  # noqa: F401
    HAVE_MATPLOTLIB = True
except ImportError:
    HAVE_MATPLOTLIB = False


@unittest.skipUnless(HAVE_MATPLOTLIB, f"no matplotlib for {sys.executable}: Debian's python3-matplotlib")
class PlotTest(unittest.TestCase):
    def plot(self, source, target):
        return subprocess.run([sys.executable, SCRIPT, source, target], capture_output=True, text=True, timeout=120)

    def test_recorded_run_makes_a_png(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "plot.png")
            p = self.plot(RECORDED, out)
            self.assertEqual(p.returncode, 0, p.stderr)
            with open(out, "rb") as f:
                head = f.read(24)
            self.assertEqual(head[:8], b"\x89PNG\r\n\x1a\n")
            self.assertEqual(struct.unpack(">II", head[16:24]), (1600, 700))

    def test_a_run_without_the_numbers_is_refused(self):
        with tempfile.TemporaryDirectory() as tmp:
            source = os.path.join(tmp, "run.json")
            with open(source, "w") as f:
                json.dump({"mode": "short", "date": "", "setup": [], "rows": [], "data": {}}, f)
            p = self.plot(source, os.path.join(tmp, "plot.png"))
            self.assertEqual(p.returncode, 1)
            self.assertIn("backend_calls", p.stderr)
            self.assertFalse(os.path.exists(os.path.join(tmp, "plot.png")))


if __name__ == "__main__":
    unittest.main()
