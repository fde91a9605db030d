#!/usr/bin/env bash
# valgrind_cascade.sh: valgrind memcheck over a small CPU cascade (48 images in
# chunks of 32: a whole chunk and a part one) and `cascade info`.
#   tests/valgrind_cascade.sh CASCADE_BINARY     (assets from $CASCADE_ASSETS, default ../shared)
# Fails on any memcheck error or any definite/indirect leak; prints "skipped"
# and exits 77 when valgrind is not installed.
set -uo pipefail
cascade=${1:?usage: valgrind_cascade.sh CASCADE_BINARY}
command -v valgrind >/dev/null || { echo "skipped: valgrind is not installed (apt-get install valgrind)"; exit 77; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# OpenBLAS: one thread (valgrind serialises threads anyway) and no AVX-512 re-exec (valgrind has no AVX-512)
export OPENBLAS_NUM_THREADS=1 CASCADE_BLAS_TUNE=0
memcheck=(valgrind --error-exitcode=99 --suppressions="$(dirname "$0")/valgrind.supp" --leak-check=full --errors-for-leak-kinds=definite,indirect
          --show-leak-kinds=definite,indirect --track-origins=yes)
status=0
check() { # name, expected exit status, then the cascade arguments
  local name=$1 want=$2; shift 2
  local start=$SECONDS
  "${memcheck[@]}" --log-file="$out/$name.vg" "$cascade" "$@" >"$out/$name.out" 2>&1
  local rc=$?
  local errors leaks
  errors=$(grep -o 'ERROR SUMMARY: [0-9]* errors' "$out/$name.vg" | tail -1)
  leaks=$(grep -E 'definitely lost|indirectly lost' "$out/$name.vg" | sed 's/^==[0-9]*== *//' | tr '\n' ' ')
  if [ $rc -ne "$want" ]; then
    status=1
    echo "FAIL $name: exit $rc (want $want; 99 = memcheck errors), ${errors:-no summary}"
    grep -v '^==[0-9]*== *$' "$out/$name.vg" | tail -40
    tail -5 "$out/$name.out"
  else
    echo "ok   $name ($((SECONDS - start)) s): ${errors}; ${leaks:-no leaks}"
  fi
}
check cascade-lenet-alexnet_shallower 0 run --device cpu --cheap lenet --full alexnet_shallower --limit 48 \
      --chunk 32 --batch 16 --quiet --output "$out/p.csv" --json "$out/r.json" --progress-json "$out/progress.json"
check info-resnet34 0 info --layers resnet34
check failing-run 1 run --device cpu --cheap lenet --full none --limit 4 --quiet --data "$out/no-such-file.bin"
rows=$(cat "$out/p.csv" 2>/dev/null | wc -l)
[ "$rows" = 49 ] || { echo "FAIL: the cascade's p.csv has $rows lines, not 49 (a header and 48 rows)"; status=1; }
exit $status
