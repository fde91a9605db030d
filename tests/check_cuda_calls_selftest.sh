#!/usr/bin/env bash
# check_cuda_calls_selftest.sh: the status checker can fail. Over
# tests/check_cuda_calls/bad it must flag exactly the lines marked BAD (the
# forms that once fooled it: a call in a #define, a return's comma, a macro
# that only looks like a check, == inside the call's own arguments, a variable
# mentioned but never tested, or overwritten before its test, a launch whose error is cleared, our own
# launchers, the driver API, another status compared in the same statement: after an if's condition, or
# beside it in an ||); over tests/check_cuda_calls/good, nothing.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
fail=0
out=$(bash "$here/check_cuda_calls.sh" "$here/check_cuda_calls/bad"); rc=$?
want=$(grep -n '/\* BAD' "$here/check_cuda_calls/bad/runtime/bad.c" | cut -d: -f1 | sort -n | tr '\n' ' ')
got=$(echo "$out" | sed -n 's/^UNCHECKED runtime\/bad.c:\([0-9]*\):.*/\1/p' | sort -n | tr '\n' ' ')
if [ $rc -ne 1 ] || [ "$want" != "$got" ]; then
  echo "FAIL bad: exit $rc, flagged lines [$got], expected [$want]"; fail=1
else echo "ok   bad: exit 1, flagged exactly the BAD lines [$got]"; fi
out=$(bash "$here/check_cuda_calls.sh" "$here/check_cuda_calls/good"); rc=$?
if [ $rc -ne 0 ] || echo "$out" | grep -q '^UNCHECKED'; then
  echo "FAIL good: exit $rc"; echo "$out" | grep '^UNCHECKED'; fail=1
else echo "ok   good: exit 0, nothing flagged"; fi
exit $fail
