"""checks.py: the test scripts' check() and their last line.

check(cond, what) counts a failure and prints "FAIL what"; with verbose set
it prints the passing checks too ("ok   what"). finish(name) prints the
script's summary and returns its exit code.
"""
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
