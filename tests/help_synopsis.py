#!/usr/bin/env python3
"""help_synopsis.py: README.md's synopsis of each command names exactly the
options its `--help` lists, so neither drifts from the other unseen; and
`cascade help CMD` (or --help CMD, -h CMD) is CMD's --help.

usage: help_synopsis.py CASCADE_BINARY
An option counts as listed in --help when a line starts with it ("  --chunk C"
or "  --chunk C / --batch B" names both); in the README, when it appears in the
command's synopsis block under "## Commands".
"""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checks  # noqa: E402
from checks import check  # noqa: E402

cascade = os.path.abspath(sys.argv[1])
README = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "README.md")
COMMANDS = ("run", "sweep", "calibrate", "bench", "info")


def help_options(cmd):
    r = subprocess.run([cascade, cmd, "--help"], capture_output=True, text=True, timeout=60)
    check(r.returncode == 0, "%s --help: exit %d" % (cmd, r.returncode))
    found = set()
    for line in r.stdout.splitlines():
        if re.match(r"  --", line):  # the option column: up to the first two spaces after it
            found.update(re.findall(r"--[a-z][a-z-]*", line.split("  ", 2)[1]))
        if line.startswith("usage: "):
            found.update(re.findall(r"--[a-z][a-z-]*", line))
    return found


def synopses():
    text = open(README).read()
    section = text[text.index("## Commands"):]
    section = section[:section.index("\n\n", section.index("    cascade "))]
    blocks = {}
    for block in re.split(r"\n(?=    cascade )", section):
        m = re.match(r"    cascade (\S+)", block)
        if m:
            blocks[m.group(1)] = set(re.findall(r"--[a-z][a-z-]*", block))
    return blocks


def help_spellings(cmd):
    """`cascade help CMD`, `cascade --help CMD` and `cascade -h CMD` print CMD's --help."""
    own = subprocess.run([cascade, cmd, "--help"], capture_output=True, text=True, timeout=60).stdout
    for spelling in ("help", "--help", "-h"):
        r = subprocess.run([cascade, spelling, cmd], capture_output=True, text=True, timeout=60)
        check(r.returncode == 0 and r.stdout == own, "cascade %s %s: exit %d, %s" % (
            spelling, cmd, r.returncode, "its --help" if r.stdout == own else "not its --help: %r" % r.stdout[:60]))


def main():
    blocks = synopses()
    for cmd in COMMANDS:
        listed = help_options(cmd)
        given = blocks.get(cmd)
        if not check(given is not None, "README has a synopsis of cascade %s" % cmd):
            continue
        check(listed - given == set(), "README's synopsis of %s lacks %s" % (cmd, sorted(listed - given)))
        check(given - listed == set(), "README's synopsis of %s has %s, which --help does not list" %
              (cmd, sorted(given - listed)))
        print("%-9s %2d options in --help and in README" % (cmd, len(listed & given)))
        help_spellings(cmd)
    return checks.finish("help_synopsis")


if __name__ == "__main__":
    sys.exit(main())
