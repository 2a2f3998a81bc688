"""manifests:dockerfile: docker/Dockerfile checked statically, in seconds and without a container
engine (image:run, test/image, builds and runs the image itself).

- every COPY source exists and is not excluded by .dockerignore;
- the build stage installs its packages with `scripts/install-deps.sh build` (one list for CI, the
  demo and the image; `build` is its compile-only part), copies every directory the top-level
  CMakeLists.txt builds, and configures with scripts/build.sh plain's flags plus -DBUILD_TESTING=OFF;
- the runtime stage is debian:bookworm-slim, runs as 65532 with the binary as ENTRYPOINT, and
  installs the Debian packages of every shared library the built binary links (ldd + dpkg -S).
"""
import fnmatch
import json
import os
import re
import shlex
import shutil
import subprocess
import unittest

import manifest_support as ms

DOCKERFILE = ms.REPO / "docker" / "Dockerfile"
DOCKERIGNORE = ms.REPO / ".dockerignore"
ENTRYPOINT = ["/usr/local/bin/sysdig-metrics-adapter"]
# Packages every Debian image has: not listed in the runtime stage.
BASE_IMAGE_PACKAGES = {"libc6"}


def instructions(text):
    """[(INSTRUCTION, arguments)] with comments dropped and continuation lines joined."""
    out, current = [], ""
    for line in text.splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if current and stripped.startswith("#"):
            continue  # a comment inside a continued instruction
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        current += line
        keyword, _, rest = current.strip().partition(" ")
        out.append((keyword.upper(), rest.strip()))
        current = ""
    if current:
        raise AssertionError("Dockerfile ends inside a continued line")
    return out


def stages(text):
    """[{"from": image, "name": alias, "steps": [(INSTRUCTION, args)]}]"""
    out = []
    for keyword, args in instructions(text):
        if keyword == "FROM":
            words = args.split()
            words = [w for w in words if not w.startswith("--")]
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            out.append({"from": words[0], "name": name, "steps": []})
        elif out:
            out[-1]["steps"].append((keyword, args))
        elif keyword not in ("ARG",):
            raise AssertionError("%s before the first FROM" % keyword)
    return out


def copy_sources(args):
    """(options, sources, destination) of a COPY."""
    if args.startswith("["):
        words = json.loads(args)
        options = []
    else:
        words = shlex.split(args)
        options = [w for w in words if w.startswith("--")]
        words = [w for w in words if not w.startswith("--")]
    return options, words[:-1], words[-1]


def dockerignore_patterns():
    if not DOCKERIGNORE.exists():
        return []
    patterns = []
    for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            patterns.append(line)
    return patterns


def ignored(path, patterns):
    """Whether .dockerignore excludes a context path (or one of its parent directories). Handles
    the pattern forms used here: plain names, globs, leading **/ and ! exceptions."""
    parts = path.strip("/").split("/")
    prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    result = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        p = pattern[1:] if negate else pattern
        p = p.strip("/")
        candidates = [p]
        if p.startswith("**/"):
            candidates.append(p[3:])
        hit = False
        for prefix in prefixes:
            for c in candidates:
                if fnmatch.fnmatchcase(prefix, c):
                    hit = True
                elif c != p and fnmatch.fnmatchcase(prefix.rsplit("/", 1)[-1], c):
                    hit = True  # **/name matches name at any depth
        if hit:
            result = not negate
    return result


def apt_packages(run_args):
    """Package names of every `apt-get install` in a RUN."""
    out = set()
    for command in re.split(r"&&|;|\|\|", run_args):
        words = shlex.split(command)
        words = [w for w in words if "=" not in w or w.startswith("-")]  # drop VAR=value prefixes
        if "apt-get" in words and "install" in words:
            after = words[words.index("install") + 1:]
            out |= {w for w in after if not w.startswith("-")}
    return out


def top_level_subdirectories():
    """Directories the top-level CMakeLists.txt adds outside if(BUILD_TESTING)."""
    text = (ms.REPO / "CMakeLists.txt").read_text(encoding="utf-8")
    out, depth_testing = [], 0
    for line in text.splitlines():
        code = line.split("#", 1)[0].strip()
        if re.match(r"if\s*\(\s*BUILD_TESTING\s*\)", code):
            depth_testing += 1
        elif depth_testing and re.match(r"endif\s*\(", code):
            depth_testing -= 1
        m = re.match(r"add_subdirectory\s*\(\s*([^\s)]+)", code)
        if m and not depth_testing:
            out.append(m.group(1))
    return out


def build_sh_plain_flags():
    """The -D/-G options of scripts/build.sh's plain configure line."""
    text = (ms.REPO / "scripts" / "build.sh").read_text(encoding="utf-8")
    block = text[text.index("plain)"):text.index(";;", text.index("plain)"))]
    line = [l for l in block.splitlines() if l.strip().startswith("cmake -S")][0]
    return configure_flags(line)


def configure_flags(command):
    words = shlex.split(command)
    flags = set()
    i = 0
    while i < len(words):
        w = words[i]
        if w == "-G":
            flags.add("-G " + words[i + 1])
            i += 1
        elif w.startswith("-D"):
            flags.add(w)
        i += 1
    return flags


class DockerfileTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.text = DOCKERFILE.read_text(encoding="utf-8")
        cls.stages = stages(cls.text)
        cls.build = cls.stages[0]
        cls.runtime = cls.stages[-1]

    def test_two_stages_on_bookworm(self):
        self.assertEqual(len(self.stages), 2)
        self.assertEqual(self.build["from"], "debian:bookworm")
        self.assertTrue(self.build["name"])
        self.assertEqual(self.runtime["from"], "debian:bookworm-slim")

    def test_copy_sources_exist_and_are_in_the_context(self):
        patterns = dockerignore_patterns()
        copies = 0
        for stage in self.stages:
            for keyword, args in stage["steps"]:
                self.assertNotEqual(keyword, "ADD", "use COPY")
                if keyword != "COPY":
                    continue
                options, sources, _ = copy_sources(args)
                if any(o.startswith("--from=") for o in options):
                    continue
                for source in sources:
                    copies += 1
                    with self.subTest(source=source):
                        self.assertFalse(os.path.isabs(source))
                        self.assertTrue((ms.REPO / source).exists(), "%s does not exist in the repository" % source)
                        self.assertFalse(ignored(source, patterns), "%s is excluded by .dockerignore" % source)
        self.assertGreater(copies, 0)

    def test_dockerignore_keeps_build_trees_out(self):
        patterns = dockerignore_patterns()
        for path in ("build/CMakeCache.txt", "build-asan/x", ".git/HEAD", "lib/__pycache__/x.pyc"):
            self.assertTrue(ignored(path, patterns), path)
        for path in ("lib/api/quantity.cpp", "scripts/install-deps.sh", "scripts/build.sh", "CMakeLists.txt"):
            self.assertFalse(ignored(path, patterns), path)

    def test_build_stage_installs_with_install_deps(self):
        steps = self.build["steps"]
        copied = [copy_sources(a)[1] for k, a in steps if k == "COPY"]
        self.assertIn(["scripts/install-deps.sh"], copied)
        runs = [i for i, (k, a) in enumerate(steps) if k == "RUN" and "scripts/install-deps.sh" in a]
        self.assertEqual(len(runs), 1, "the build stage runs scripts/install-deps.sh once")
        # Only the compile-time set: the test tools (clang, Prometheus, podman, ...) stay out.
        self.assertEqual(shlex.split(steps[runs[0]][1]), ["bash", "scripts/install-deps.sh", "build"])
        self.assertIn("build)", (ms.REPO / "scripts" / "install-deps.sh").read_text(encoding="utf-8"),
                      "scripts/install-deps.sh has a `build` set")
        copy_index = [i for i, (k, a) in enumerate(steps) if k == "COPY" and "scripts/install-deps.sh" in a][0]
        self.assertLess(copy_index, runs[0])
        # No second package list that could drift from the script's.
        for k, a in steps:
            if k == "RUN":
                self.assertEqual(apt_packages(a), set(), "the build stage installs packages only through the script")

    def test_build_stage_copies_the_whole_build_and_configures_like_build_sh(self):
        steps = self.build["steps"]
        copied = set()
        for k, a in steps:
            if k == "COPY":
                copied |= {s.rstrip("/") for s in copy_sources(a)[1]}
        self.assertIn("CMakeLists.txt", copied)
        for directory in top_level_subdirectories():
            top = directory.split("/")[0]
            with self.subTest(subdirectory=directory):
                self.assertTrue(top in copied or directory in copied, "%s is built but not copied" % directory)
        configure = [a for k, a in steps if k == "RUN" and "cmake -S" in a]
        self.assertEqual(len(configure), 1)
        command = [c for c in configure[0].split("&&") if "cmake -S" in c][0]
        flags = configure_flags(command)
        self.assertLessEqual(build_sh_plain_flags(), flags, "scripts/build.sh plain's flags")
        self.assertIn("-DBUILD_TESTING=OFF", flags)

    def test_runtime_stage(self):
        steps = self.runtime["steps"]
        users = [a for k, a in steps if k == "USER"]
        self.assertEqual(users[-1:], ["65532:65532"], "numeric non-root user, last USER wins")
        entrypoints = [a for k, a in steps if k == "ENTRYPOINT"]
        self.assertEqual(len(entrypoints), 1)
        self.assertEqual(json.loads(entrypoints[0]), ENTRYPOINT)
        copies = [copy_sources(a) for k, a in steps if k == "COPY"]
        self.assertTrue(copies)
        for options, sources, destination in copies:
            self.assertIn("--from=" + self.build["name"], options, "the runtime stage copies only from the build stage")
        self.assertIn(ENTRYPOINT[0], [d for _, _, d in copies])
        packages = self.runtime_packages()
        self.assertIn("ca-certificates", packages)
        for p in packages:
            self.assertFalse(p.endswith("-dev"), "no development packages at runtime: " + p)
        self.assertNotIn("CMD", [k for k, _ in steps], "arguments come from the Deployment")

    def runtime_packages(self):
        packages = set()
        for k, a in self.runtime["steps"]:
            if k == "RUN":
                packages |= apt_packages(a)
        return packages

    def test_runtime_packages_cover_the_binary(self):
        binary = ms.require_binary()
        if shutil.which("ldd") is None or shutil.which("dpkg") is None:
            raise unittest.SkipTest("SKIPPED: ldd and dpkg are needed to map the binary's libraries to packages")
        out = subprocess.run(["ldd", binary], capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        libraries = re.findall(r"=>\s+(/\S+)", out.stdout)
        self.assertTrue(libraries)
        packages = self.runtime_packages() | BASE_IMAGE_PACKAGES
        for library in libraries:
            with self.subTest(library=library):
                owner = debian_package(library)
                self.assertIsNotNone(owner, "no Debian package owns %s" % library)
                if owner.startswith(("libasan", "libubsan", "libclang-rt")):
                    continue  # sanitizer runtimes of the ASan tree, never in the image's build
                self.assertIn(owner, packages, "%s (%s) is not installed by the runtime stage" % (library, owner))


def debian_package(path):
    """The package that owns a file, trying the merged-/usr spellings dpkg may know it by."""
    real = os.path.realpath(path)
    candidates = []
    for p in (path, real):
        candidates.append(p)
        if p.startswith("/usr/lib/"):
            candidates.append(p[len("/usr"):])
        elif p.startswith("/lib/"):
            candidates.append("/usr" + p)
    for candidate in candidates:
        out = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True, timeout=30)
        if out.returncode == 0 and out.stdout:
            name = out.stdout.split(":", 1)[0].strip()
            return name.split(",")[0].strip()
    return None


if __name__ == "__main__":
    ms.main()
