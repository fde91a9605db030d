"""checks.py: the test scripts' check() and their last line.

check(cond, what) counts a failure and prints "FAIL what"; with verbose set
it prints the passing checks too ("ok   what"). finish(name) prints the
script's summary and returns its exit code. communicate_or_kill(p, timeout)
waits for a child's outputs, killing it past the timeout.
"""
import subprocess

failures = 0
verbose = False


def check(cond, what):
    global failures
    if not cond:
        failures += 1
    if not cond or verbose:
        print("%s %s" % ("ok  " if cond else "FAIL", what))
    return cond


def finish(name):
    print("%s: %s" % (name, "all checks passed" if not failures else "%d check(s) failed" % failures))
    return 1 if failures else 0


def communicate_or_kill(p, timeout):
    """p's (stdout, stderr, killed): its outputs once it exits, or, when it has
    not exited within timeout seconds, once it is killed (killed True)."""
    try:
        out, err = p.communicate(timeout=timeout)
        return out, err, False
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        return out, err, True
