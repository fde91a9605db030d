#!/usr/bin/env python3
"""install_check.py: `cmake --install` of the build tree gives a cascade that
runs as the build tree's does, from anywhere.

usage: install_check.py CMAKE BUILD_DIR CASCADE_BINARY
Installs into a temporary prefix, then checks: P/bin/cascade, the profiling
scripts and the README are there; the installed binary keeps every library
path of the build tree's binary outside the build tree (its RUNPATH), and
loads each shared library from the same file (ldd, without LD_LIBRARY_PATH);
its --version is the build tree's; run from a folder outside the checkout,
it writes the same per-image CSV as the build tree's binary, and without
CASCADE_ASSETS finds the shared/ beside its source tree (when the assets are
that one); the installed scripts answer --help.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checks  # noqa: E402
from checks import check  # noqa: E402

cmake, build, built = sys.argv[1], os.path.realpath(sys.argv[2]), os.path.abspath(sys.argv[3])


def runpath(binary):
    r = subprocess.run(["readelf", "-d", binary], capture_output=True, text=True)
    m = re.search(r"\((?:RUNPATH|RPATH)\)\s+Library r(?:un)?path: \[(.*)\]", r.stdout)
    return m.group(1).split(":") if m else []


def loaded(binary, env):
    """name -> the file ldd resolves it to ('not found' when it does not)."""
    r = subprocess.run(["ldd", binary], capture_output=True, text=True, env=env)
    libs = {}
    for line in r.stdout.splitlines():
        m = re.match(r"\s*(\S+) => (\S+|not found)", line)
        if m:
            libs[m.group(1)] = os.path.realpath(m.group(2)) if m.group(2) != "not found" else "not found"
    return libs


def same_libraries(installed):
    outside = [d for d in runpath(built) if d and os.path.commonpath([os.path.realpath(d), build]) != build]
    kept = runpath(installed)
    check(all(d in kept for d in outside), "installed RUNPATH %s keeps the build's %s" % (kept, outside))
    env = {k: v for k, v in os.environ.items() if k != "LD_LIBRARY_PATH"}
    want, have = loaded(built, env), loaded(installed, env)
    check(want and "not found" not in have.values(), "installed binary finds its libraries: %s" % have)
    for name, path in sorted(want.items()):
        check(have.get(name) == path, "%s: installed loads %s, build tree %s" % (name, have.get(name), path))


def same_run(installed, scratch):
    """The same CSV from both binaries, each run from a folder outside the checkout."""
    outputs = []
    for binary, tag in ((built, "build"), (installed, "installed")):
        out = os.path.join(scratch, tag + ".csv")
        r = subprocess.run([binary, "run", "--device", "cpu", "--cheap", "lenet", "--full", "none", "--limit", "200",
                            "--output", out], cwd=scratch, capture_output=True, text=True, timeout=300)
        check(r.returncode == 0, "%s run: exit %d %s" % (tag, r.returncode, r.stderr.strip()[-200:]))
        outputs.append(open(out).read() if os.path.exists(out) else None)
    check(outputs[0] is not None and outputs[0].count("\n") == 201 and outputs[0] == outputs[1],
          "installed run writes the build tree's CSV (%s lines)" % (outputs[0] or "").count("\n"))


def main():
    prefix = tempfile.mkdtemp(prefix="cascade-install-")
    try:
        r = subprocess.run([cmake, "--install", build, "--prefix", prefix], capture_output=True, text=True,
                           timeout=120)
        check(r.returncode == 0, "cmake --install: exit %d %s" % (r.returncode, r.stderr.strip()[-300:]))
        installed = os.path.join(prefix, "bin", "cascade")
        scripts = [os.path.join(prefix, "share", "cascade", "profiling", s) for s in ("torch_peer.py", "targets.py")]
        check(os.access(installed, os.X_OK), "installed %s" % installed)
        check(all(os.access(s, os.X_OK) for s in scripts), "installed, executable: %s" % scripts)
        check(os.path.isfile(os.path.join(prefix, "share", "doc", "cascade", "README.md")), "installed README.md")
        if not os.access(installed, os.X_OK):
            return checks.finish("install_check")
        same_libraries(installed)
        versions = [subprocess.run([b, "--version"], capture_output=True, text=True).stdout for b in (built, installed)]
        check(versions[0] and versions[0] == versions[1], "--version: %r, installed %r" % tuple(versions))
        same_run(installed, prefix)
        default = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared")
        if os.path.realpath(os.environ.get("CASCADE_ASSETS", default)) == os.path.realpath(default):
            env = {k: v for k, v in os.environ.items() if k != "CASCADE_ASSETS"}
            r = subprocess.run([installed, "info", "lenet"], cwd=prefix, env=env, capture_output=True, text=True)
            check(r.returncode == 0, "installed, without CASCADE_ASSETS, finds the shared/ beside its source tree: "
                  "exit %d %s" % (r.returncode, r.stderr.strip()[-200:]))
        r = subprocess.run([sys.executable, scripts[1], "--help"], capture_output=True, text=True, timeout=60)
        check(r.returncode == 0 and "usage" in r.stdout, "installed targets.py --help: exit %d" % r.returncode)
    finally:
        shutil.rmtree(prefix, ignore_errors=True)
    return checks.finish("install_check")


if __name__ == "__main__":
    sys.exit(main())
