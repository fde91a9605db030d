#!/usr/bin/env bash
# sanitize_gpu.sh: compute-sanitizer over the GPU test suites.
#   profiling/sanitize_gpu.sh [BUILD_DIR [LOG_DIR]]   (default build-device, $OUT/sanitize; called by device_check.sh)
# Runs each GPU ctest (its own command line and environment, read from
# `ctest --show-only=json-v1`) under compute-sanitizer, in this order:
# racecheck and synccheck of gpu_network with no networks (its own kernels);
# memcheck (with the device-memory leak check) of $MEMCHECK_TESTS
# (gpu_cascade), of gpu_network, and of $RACE_TESTS (gpu_kernels); then
# racecheck and synccheck of $RACE_TESTS (kernel-level hazards: the kernel
# suite covers them). The two variables add to the gpu_network runs, which
# always come first. Each run is limited to $SANITIZE_TIMEOUT seconds
# and ends by $SANITIZE_DEADLINE (epoch seconds, when set: a run with under
# 20 s left is not started, and counts as incomplete); each verdict is printed
# as it comes. SIGTERM stops the run in progress (its whole process group:
# compute-sanitizer and the test) and prints what finished.
# Under the sanitizers the suites run small: the first $SANITIZE_IMAGES test
# images, the networks in $SANITIZE_MODELS, one cuDNN plan per conv (no timing).
# Exit: 0 every run clean; 1 a sanitizer reported an error or a test failed;
# 2 nothing failed but a run timed out (incomplete); 77 no GPU / no tests.
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-device}
MEMCHECK_TESTS=${MEMCHECK_TESTS:-'^gpu_cascade$'}
RACE_TESTS=${RACE_TESTS:-'^gpu_kernels$'}
SANITIZE_TIMEOUT=${SANITIZE_TIMEOUT:-90}
sanitizer=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
[ -x "$sanitizer" ] || { echo "sanitize_gpu: skipped: compute-sanitizer not found"; exit 77; }
# no device: skip (nvidia-smi, else the device nodes: an image may lack the tool)
{ nvidia-smi -L >/dev/null 2>&1 || compgen -G "/dev/nvidia[0-9]*" >/dev/null; } || { echo "sanitize_gpu: skipped: no CUDA device"; exit 77; }
logs=${2:-${OUT:-/tmp}/sanitize}
mkdir -p "$logs"
export CASCADE_TEST_IMAGES=${SANITIZE_IMAGES:-300} CASCADE_CUDNN_PLANS=1
export CASCADE_TEST_THROUGHPUT=0 # no timed replays: a figure under the sanitizer means nothing and costs minutes
export CASCADE_TEST_MODELS=${SANITIZE_MODELS:-lenet,alexnet_shallower,resnet34}

# "name<TAB>env assignments<TAB>command..." for each ctest whose name matches $1
list_tests() {
  ctest --test-dir "$build" --show-only=json-v1 | python3 -c '
import json, re, shlex, sys
pattern = re.compile(sys.argv[1])
for t in json.load(sys.stdin)["tests"]:
    if not pattern.search(t["name"]) or "command" not in t:
        continue
    env = [p["value"] for p in t.get("properties", []) if p["name"] == "ENVIRONMENT"]
    env = [e for v in env for e in (v if isinstance(v, list) else [v])]
    print("\t".join([t["name"], " ".join(shlex.quote(e) for e in env), " ".join(shlex.quote(c) for c in t["command"])]))
' "$1"
}

status=0 ran=0 child="" current=""
rows=()
report() {
  [ ${#rows[@]} -gt 0 ] || return 0
  echo "compute-sanitizer ($("$sanitizer" --version | grep -o 'Version [0-9.]*' | head -1)), logs in $logs:"
  printf '  %s\n' "${rows[@]}"
}
# stopped from outside (device_check's backstop): the run in progress goes, with its children
trap '[ -n "$child" ] && kill -TERM -- -"$child" 2>/dev/null
      rows+=("stopped by a signal${current:+ during $current}: it and any later runs not made"); report; exit 2' TERM INT
# seconds the next run may take: SANITIZE_TIMEOUT, or what is left before SANITIZE_DEADLINE
run_limit() {
  local limit=$SANITIZE_TIMEOUT
  if [ -n "${SANITIZE_DEADLINE:-}" ]; then
    local left=$(( SANITIZE_DEADLINE - $(date +%s) ))
    (( left < limit )) && limit=$left
  fi
  echo "$limit"
}
add_row() { rows+=("$(printf '%-10s %-14s %s' "$1" "$2" "$3")"); echo "${rows[-1]}"; } # tool test verdict
run_tool() { # tool regex extra-args...
  local tool=$1 regex=$2; shift 2
  while IFS=$'\t' read -r name env cmd; do
    [ -n "$name" ] || continue
    local log=$logs/$tool-$name.log limit; limit=$(run_limit)
    if (( limit < 20 )); then
      add_row "$tool" "$name" "not run: no time left"
      [ $status = 0 ] && status=2
      continue
    fi
    # in the background so that the TERM trap runs at once; exec: $! is timeout itself, which
    # leads its own process group (compute-sanitizer and the test in it), so the trap can stop it all
    ( eval "exec env $env ${RUN_ENV:-} timeout $limit \"$sanitizer\" --tool $tool --error-exitcode 86 $* $cmd" ) >"$log" 2>&1 &
    child=$! current="$tool $name"
    wait "$child"
    local rc=$? verdict
    child="" current=""
    local summary_line; summary_line=$(grep -a -E "ERROR SUMMARY|RACECHECK SUMMARY|LEAK SUMMARY" "$log" | tail -1)
    case $rc in
      0) verdict="clean"; ran=$((ran + 1)) ;;
      77) verdict="skipped (test says no device)" ;;
      124) verdict="TIMED OUT after ${limit}s (incomplete)"; [ $status = 0 ] && status=2 ;;
      86) verdict="ERRORS: ${summary_line:-see log}"; status=1; ran=$((ran + 1)) ;;
      *) verdict="FAILED (test exit $rc) ${summary_line}"; status=1; ran=$((ran + 1)) ;;
    esac
    add_row "$tool" "$name" "$verdict"
    [ $rc = 86 ] && grep -a -m 8 -E "^========= (Invalid|Race|Barrier|Program hit|Leaked|.*error)" "$log" | sed 's/^/    /'
  done < <(list_tests "$regex")
}

# Most wanted first, as a deadline may cut the list short: what has never run under
# the sanitizers, then the rest. The network suite's own kernels (conv_small's
# shared-memory staging, pooling) with no networks: cuDNN's Hopper engines overflow
# synccheck's barrier tracking and then fail under it (seen on the H100, 2026-11-26),
# and racecheck over whole networks outruns any budget.
RUN_ENV="CASCADE_TEST_MODELS=none" run_tool racecheck '^gpu_network$' --report-api-errors no
RUN_ENV="CASCADE_TEST_MODELS=none" run_tool synccheck '^gpu_network$' --report-api-errors no
run_tool memcheck "$MEMCHECK_TESTS" --leak-check full
# gpu_network provokes cudaErrorMemoryAllocation on purpose (its out-of-memory
# check), which memcheck would count as an error: API errors are left to the
# code's own checks there (every call is checked; a failing one fails the test).
run_tool memcheck '^gpu_network$' --leak-check full --report-api-errors no
run_tool memcheck "$RACE_TESTS" --leak-check full
run_tool racecheck "$RACE_TESTS"
run_tool synccheck "$RACE_TESTS"
[ ${#rows[@]} -gt 0 ] || { echo "sanitize_gpu: skipped: no GPU tests in $build"; exit 77; }
report
[ $status = 0 ] && [ $ran = 0 ] && { echo "sanitize_gpu: every run skipped"; exit 77; }
exit $status
