#!/usr/bin/env bash
# run_fuzzers.sh: runs every libFuzzer target of tests/fuzz for SECONDS each.
#   tests/fuzz/run_fuzzers.sh SECONDS [BUILD_DIR] [TARGET...]
# BUILD_DIR (default build-fuzz) must be configured with clang and
# -DCASCADE_FUZZ=ON. Seeds: tests/fuzz/corpus/T (committed, crafted),
# tests/fuzz/regressions/T (inputs that once crashed) and seeds made from the
# real assets by make_corpus.py; new inputs found go to BUILD_DIR/fuzz-work/T,
# crashes to BUILD_DIR/fuzz-artifacts/. Prints executions and time per target;
# exits 1 if any target crashed, leaked, timed out or ran out of memory.
set -uo pipefail
seconds=${1:?usage: run_fuzzers.sh SECONDS [BUILD_DIR] [TARGET...]}
build=${2:-build-fuzz}
shift $(( $# >= 2 ? 2 : 1 ))
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(safetensors model cifar options)
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$build" && pwd) || exit 2
bin=$build/tests/fuzz
[ -x "$bin/fuzz_${targets[0]}" ] || { echo "run_fuzzers: no $bin/fuzz_${targets[0]}: configure with CC=clang -DCASCADE_FUZZ=ON" >&2; exit 2; }
python3 "$here/make_corpus.py" "$bin/corpus" || exit 2
mkdir -p "$build/fuzz-artifacts" "$build/fuzz-logs"
declare -A dict=([safetensors]=safetensors.dict [model]=safetensors.dict [options]=options.dict)
failed=0
rows=()
for t in "${targets[@]}"; do
  work=$build/fuzz-work/$t
  log=$build/fuzz-logs/$t.log
  mkdir -p "$work"
  args=(-max_total_time="$seconds" -print_final_stats=1 -timeout=30 -rss_limit_mb=4096
        -artifact_prefix="$build/fuzz-artifacts/$t-")
  [ -n "${dict[$t]:-}" ] && args+=(-dict="$here/${dict[$t]}")
  seeds=()
  for d in "$here/corpus/$t" "$here/regressions/$t" "$bin/corpus/$t"; do [ -d "$d" ] && seeds+=("$d"); done
  start=$(date +%s.%N)
  "$bin/fuzz_$t" "${args[@]}" "$work" "${seeds[@]}" >"$log" 2>&1
  rc=$?
  wall=$(python3 -c "import sys; print('%.1f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$start" "$(date +%s.%N)")
  execs=$(awk '/stat::number_of_executed_units/ {print $2}' "$log" | tail -1)
  rate=$(awk '/stat::average_exec_per_sec/ {print $2}' "$log" | tail -1)
  cov=$(grep -ao 'cov: [0-9]*' "$log" | tail -1 | awk '{print $2}')
  units=$(ls "$work" | wc -l)
  verdict=ok
  if [ $rc -ne 0 ]; then
    verdict="FAILED (exit $rc)"
    failed=1
    grep -a -m3 -E 'ERROR|invariant|runtime error' "$log" | sed 's/^/    /'
    grep -a 'Test unit written to' "$log" | sed 's/^/    /'
  fi
  rows+=("$(printf '%-12s %7ss %10s execs %8s exec/s  cov %-5s new units %-5s %s' "$t" "$wall" "${execs:-?}" "${rate:-?}" "${cov:-?}" "$units" "$verdict")")
done
echo "fuzzing: $seconds s per target (logs in $build/fuzz-logs)"
printf '  %s\n' "${rows[@]}"
if [ $failed -ne 0 ]; then
  echo "run_fuzzers: a target failed; reproduce with $bin/fuzz_T ARTIFACT, then add the input to tests/fuzz/regressions/T" >&2
fi
exit $failed
