#!/usr/bin/env bash
# device_check.sh: the GPU check on the lent machine, in one or two calls.
# Unpacks the carried assets (profiling/stage_device.sh), configures and
# builds with CMake, then runs the stages named in STAGES:
#   tests     the batch-too-big failures on the GPU (resource_failures --gpu-only),
#             `cascade run` twice (the main job; the two CSVs compared),
#             then the GPU ctest suites one by one (kernels, golden logits of the
#             networks, cascade, the commands on the GPU, no-device)
#   sanitize  compute-sanitizer memcheck/racecheck/synccheck (sanitize_gpu.sh)
#   bench     `cascade bench` on the GPU
#   torch     the PyTorch peers on the same card, ours beside them as ratios
# and prints a short summary last. Every stage is bounded so the script ends
# by DEADLINE_S (default 540) seconds after it starts, and a stage leaves the
# time the later ones reserve (tests: SANITIZE_RESERVE_S, bench:
# TORCH_RESERVE_S). After each stage what exists so far is copied to $OUT
# (logs.tgz, bench/torch tables and JSON, the TARGETS.md verdicts of
# profiling/targets.py, summary.txt with each stage's seconds), so a call cut
# off by the device budget still brings back every finished stage.
# The session's device time (15 min, the machine's start included) fits two calls:
#   call 1 (carry .device-stage/a):  STAGES="tests sanitize" CASCADE_TEST_MODELS=lenet,alexnet_shallower,resnet34 DEADLINE_S=300
#   call 2 (carry .device-stage/b):  STAGES="bench torch" DEADLINE_S=<device budget left - 50, at most 540>
# (both with CASCADE_ASSETS=/tmp/assets; /tmp and build-device/ stay while the machine is warm).
# Knobs: BENCH_IMAGES (1000000), BENCH_WARMUP_IMAGES (200000), BENCH_RUNS (5), BENCH_BATCHES (8192), BENCH_MODELS, BENCH_CASCADES,
# BENCH_THRESHOLDS (0.8,0.9,0.99), TORCH_IMAGES (100000), TORCH_RUNS (5), TORCH_ARGS, TEST_SUITES,
# DEADLINE_S, SANITIZE_RESERVE_S (120), TORCH_RESERVE_S (150).
set -uo pipefail
cd "$(dirname "$0")/.."
START=$(date +%s)
OUT=${OUT:-/tmp/device-check}
LOG=/tmp/device-check-logs
rm -rf "$LOG" # a rerun on a warm machine: an earlier call's bench, peers or runs must not come back as this one's
mkdir -p "$OUT" "$LOG"
export CASCADE_ASSETS=${CASCADE_ASSETS:-/tmp/assets}
export PATH=/opt/torch/.venv/bin:/usr/local/cuda/bin:$PATH PYTHONUNBUFFERED=1
# the CPU references inside the GPU tests: what `cascade` sets for itself (host/blas_tune.c),
# since the test programs do not re-execute themselves
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
grep -qw avx512f /proc/cpuinfo 2>/dev/null && export OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-SkylakeX}
# cuDNN plan choices shared by every process of both calls (tests, runs, bench): a known file in
# /tmp, which stays while the machine is warm, not $HOME's (unset or read-only on some images)
export CASCADE_PLAN_CACHE=${CASCADE_PLAN_CACHE:-/tmp/cascade-plans.tsv}
# this is the lent GPU machine: a GPU suite that finds no usable device fails, it does not skip
export CASCADE_EXPECT_GPU=1
BUILD=build-device
CUDNN_SYSTEM_HEADERS=(/usr/include/x86_64-linux-gnu/cudnn.h /usr/include/cudnn.h /usr/local/cuda/include/cudnn.h)
STAGES=" ${STAGES:-tests sanitize bench torch} "
want() { [[ "$STAGES" == *" $1 "* ]]; }
summary=() times=() stage_name="" stage_start=$START
# each stage's seconds, for the summary (so the next call can be sized)
stage_done() { [ -n "$stage_name" ] && times+=("$stage_name $(( $(date +%s) - stage_start )) s"); stage_name=""; }
stage() { stage_done; finish; stage_name=$1 stage_start=$(date +%s); echo "== $1 ($(( stage_start - START )) s)"; }
# seconds a stage may take: its own cap ($1), or what is left before the deadline
# once the later stages' reserve ($2) is set aside; at least 5
budget() {
  local left=$(( ${DEADLINE_S:-540} - ($(date +%s) - START) - 15 - ${2:-0} ))
  (( left < $1 )) && echo $(( left > 5 ? left : 5 )) || echo "$1"
}
# what exists so far to $OUT: called after every stage and at exit
finish() {
  cp "$LOG"/bench.txt "$LOG"/bench.json "$LOG"/torch.txt "$LOG"/torch.json "$LOG"/targets.txt "$OUT"/ 2>/dev/null
  { printf '%s\n' "${summary[@]}"; [ ${#times[@]} -gt 0 ] && echo "stage seconds: $(printf '%s, ' "${times[@]}" | sed 's/, $//')"; } > "$OUT/summary.txt"
  [ -f "$CASCADE_PLAN_CACHE" ] && cp "$CASCADE_PLAN_CACHE" "$LOG/cudnn-plans.tsv" 2>/dev/null
  tar -czf "$OUT/logs.tgz" -C "$LOG" . 2>/dev/null
}
trap 'stage_done; finish' EXIT
# each suite of a ctest log in run order, its verdict and seconds; one that
# started and has no result was cut off when the stage's time ran out
suite_verdicts() {
  awk '/^ +Start +[0-9]+: / { order[++n] = $3; seen[$3] = "CUT OFF (the stage ran out of time)" }
       / Test +#[0-9]+: / { sub(/.*Test +#[0-9]+: /, ""); name = $1; secs = 0
                            if (match($0, /[0-9.]+ sec$/)) secs = substr($0, RSTART, RLENGTH - 4)
                            sub(/^[^ ]+ [.* ]*/, ""); sub(/ +[0-9.]+ sec$/, "")
                            seen[name] = tolower($0) " " int(secs + 0.5) " s" }
       END { for (i = 1; i <= n; i++) printf "%s%s %s", (i > 1 ? ", " : ""), order[i], seen[order[i]] }' "$1"
}
stage "device"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader | tee "$LOG/gpu.txt"
# the toolchain this machine offers (the H100 and H200 images may differ): into the summary
{ echo "nvcc: $(nvcc --version 2>/dev/null | grep -o 'release [0-9.]*' || echo none)"
  echo "compute-sanitizer: $(command -v compute-sanitizer >/dev/null && compute-sanitizer --version | grep -o -m1 'Version [0-9.]*' || echo none)"
  echo "cuDNN headers: $(ls "${CUDNN_SYSTEM_HEADERS[@]}" 2>/dev/null | tr '\n' ' ')"
  echo "python3: $(python3 -c 'import sys, importlib.metadata as m; print(sys.version.split()[0], "torch", m.version("torch"))' 2>/dev/null || echo "no torch")"
} | tee -a "$LOG/gpu.txt"
summary+=("machine: $(head -1 "$LOG/gpu.txt"); $(tail -n +2 "$LOG/gpu.txt" | tr '\n' ';' | sed 's/;$//; s/;/; /g')")

stage "unpack assets"
# a full asset tree (../shared, with its checksums) is used as it is, never unpacked over
[ -f "$CASCADE_ASSETS/weights/SHA256SUMS" ] && echo "assets: $CASCADE_ASSETS is a full asset tree: the carried stages are not unpacked over it"
for s in a b; do
  [ -f "$CASCADE_ASSETS/weights/SHA256SUMS" ] && break
  d=.device-stage/$s
  [ -d "$d" ] || continue
  mkdir -p "$CASCADE_ASSETS/data/cifar10"
  (cd "$d" && find . -type f ! -name '*.xz' -exec cp --parents {} "$CASCADE_ASSETS/" \;)
  [ -f "$d/data/cifar10/test_batch.bin.xz" ] && xz -dc "$d/data/cifar10/test_batch.bin.xz" > "$CASCADE_ASSETS/data/cifar10/test_batch.bin"
  [ -f "$d/blas.tar.xz" ] && mkdir -p /tmp/blas && tar -xJf "$d/blas.tar.xz" -C /tmp/blas
  echo "stage $s unpacked"
done
ls "$CASCADE_ASSETS"/weights; echo "test images: $(( $(stat -c %s "$CASCADE_ASSETS/data/cifar10/test_batch.bin" 2>/dev/null || echo 0) / 3073 ))"
for need in weights/lenet.safetensors weights/alexnet_shallower.safetensors weights/resnet34.safetensors \
            golden/test_logits.safetensors data/cifar10/test_batch.bin; do
  if [ ! -s "$CASCADE_ASSETS/$need" ]; then # stage b alone on a fresh machine: stage a's files are gone
    summary+=("assets: $need missing: carry .device-stage/a (the machine went cold between the two calls?)")
    echo "device_check: $CASCADE_ASSETS/$need missing: carry .device-stage/a first (profiling/stage_device.sh)"; exit 2
  fi
done

stage "configure + build"
# cuDNN: the system's when its headers are there, else PyTorch's pip wheel
# (nvidia/cudnn/{include,lib}, versioned library names only; CMake finds those)
pip_cudnn() {
  local d
  for d in $(python3 -c 'import nvidia.cudnn as c; print(" ".join(c.__path__))' 2>/dev/null) \
           /opt/torch/.venv/lib/python3*/site-packages/nvidia/cudnn; do
    [ -e "$d/include/cudnn.h" ] && [ -e "$d/lib/libcudnn.so.9" ] && { echo "$d"; return; }
  done
}
cudnn_args=()
system_cudnn() { local h; for h in "${CUDNN_SYSTEM_HEADERS[@]}"; do [ -e "$h" ] && return 0; done; return 1; }
if ! system_cudnn; then
  d=$(pip_cudnn)
  [ -n "$d" ] && cudnn_args=(-DCUDNN_ROOT="$d") && export LD_LIBRARY_PATH="$d/lib:${LD_LIBRARY_PATH:-}"
  echo "cuDNN: no system headers; ${d:-no pip wheel found either}"
  # cuDNN compiles some engines at run time with NVRTC: the wheels' copy, or the toolkit's,
  # where the loader would not find it (engines needing it would silently not finalize)
  for lib in ${d:+"$d"/../cu13/lib "$d"/../cuda_nvrtc/lib} /usr/local/cuda/lib64; do
    compgen -G "$lib/libnvrtc.so*" >/dev/null && export LD_LIBRARY_PATH="${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}$lib" && echo "NVRTC: $lib"
  done
fi
blas_args=() # OpenBLAS (CPU backend): the system's, else the staged one in /tmp/blas
if [ ! -e /usr/include/x86_64-linux-gnu/openblas-pthread/cblas.h ] && [ ! -e /usr/include/openblas/cblas.h ]; then
  if [ -d /tmp/blas/usr ]; then
    blas_args=(-DOPENBLAS_ROOT=/tmp/blas)
    export LD_LIBRARY_PATH="/tmp/blas/usr/lib/x86_64-linux-gnu/openblas-pthread:/tmp/blas/usr/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}"
  else
    echo "device_check: no OpenBLAS here: carry .device-stage/a (profiling/stage_device.sh)"
  fi
fi
# CASCADE_REQUIRE_GPU: a build without the GPU backend fails here, not as skipped suites later
generator=(); command -v ninja >/dev/null && generator=(-G Ninja) # else CMake's default (Makefiles)
# bench and the peers need the CLI alone: a second call whose re-sent sources look new rebuilds only that
targets=(); { want tests || want sanitize; } || targets=(--target cascade)
if ! { cmake -S . -B $BUILD "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 -DCASCADE_REQUIRE_GPU=ON \
         "${cudnn_args[@]}" "${blas_args[@]}" \
       && timeout "$(budget 300)" cmake --build $BUILD -j "$(nproc)" "${targets[@]}"; } > "$LOG/build.log" 2>&1; then
  tail -40 "$LOG/build.log"; summary+=("build: FAILED ($(grep -a -m1 -E 'CMake Error|error:|FATAL' -A2 "$LOG/build.log" | tr -s ' \n' ' ' | cut -c1-200))")
  echo "device_check: build failed"; exit 1
fi
grep -E "cuDNN|OpenBLAS|CUDA" "$LOG/build.log" | grep -v "^\[" | head -5
summary+=("build: $(grep -a -m1 -o 'cuDNN: [^ ]*' "$LOG/build.log")")

if want tests; then
  reserve=0; want sanitize && reserve=${SANITIZE_RESERVE_S:-120}
  stage "batch too big (resource_failures --gpu-only)"
  # the one resource-failure group that uses a GPU (the rest is CPU work that CI runs); first, since it
  # takes seconds (each case fails before its big network is planned) and slow runs must not squeeze it
  limit=$(budget 60 $reserve)
  if (( limit < 20 )); then # squeezed to seconds, it would read as cut off for no reason of its own
    summary+=("batch too big on the GPU: NOT RUN (${limit} s left before the reserve: the build took the time)")
  else
    timeout -k 5 "$limit" python3 tests/resource_failures.py ./$BUILD/cascade --gpu-only > "$LOG/batch_too_big.txt" 2>&1
    rc=$?; cat "$LOG/batch_too_big.txt"
    summary+=("batch too big on the GPU: $(case $rc in 0) echo passed ;; 124) echo "CUT OFF after ${limit}s" ;; *) echo "FAILED (rc $rc)" ;; esac): $(grep -c '^ok ' "$LOG/batch_too_big.txt") ok, $(grep -c '^FAIL' "$LOG/batch_too_big.txt") failed")
  fi

  stage "cascade run x2 (the README's main job on the GPU; determinism)"
  # then, with its own time: the main job, and its cold cuDNN builds fill the plan cache the suites reuse
  run_rcs=""
  for k in 1 2; do
    limit=$(budget $(( k == 1 ? 90 : 60 )) $reserve)
    if (( limit < 20 )); then run_rcs+=" skipped"; continue; fi # squeezed to seconds it would fail for no reason
    timeout --foreground -k 5 "$limit" ./$BUILD/cascade run --device gpu --quiet --output "$LOG/run$k.csv" --json "$LOG/run$k.json" > "$LOG/run$k.txt" 2>&1
    rc=$?; run_rcs+=" $rc"
    echo "run $k: rc $rc $(tail -2 "$LOG/run$k.txt" | tr '\n' ' ')"
  done
  if [[ "$run_rcs" == *skipped* ]]; then summary+=("cascade run --device gpu: not run twice (rc$run_rcs: no time left)")
  elif [ "$run_rcs" != " 0 0" ]; then summary+=("cascade run --device gpu: FAILED (rc$run_rcs; run1.txt/run2.txt in logs.tgz)")
  elif cmp -s "$LOG/run1.csv" "$LOG/run2.csv"; then summary+=("cascade run --device gpu: two runs byte-identical")
  else summary+=("cascade run --device gpu: the two runs' CSVs DIFFER (first: a conv whose plan is NONDETERMINISTIC, REDUCES IN FP16 or over the workspace cap is not remembered, so each run times its own; see gpu_network's build report in ctest-full.log)"); fi

  stage "GPU tests"
  # one ctest per suite, quick ones first, so that a call cut short has the most suites judged;
  # the network suite (every network against the golden logits) right after the kernels
  suites=${TEST_SUITES:-gpu_kernels gpu_network gpu_cascade gpu_commands gpu_nodevice}
  : > "$LOG/ctest.log"; : > "$LOG/ctest-full.log"; rc=0 unreached=""
  for suite in $suites; do
    limit=$(budget 400 $reserve)
    if (( limit < 20 )); then unreached+="$suite "; continue; fi
    rm -f $BUILD/Testing/Temporary/LastTest.log # (a ctest killed before writing its own: not the last suite's twice)
    timeout -k 10 "$limit" ctest --test-dir $BUILD -R "^$suite\$" --output-on-failure --timeout 400 >> "$LOG/ctest.log" 2>&1 || rc=$?
    cat $BUILD/Testing/Temporary/LastTest.log >> "$LOG/ctest-full.log" 2>/dev/null # the passing suites' figures too
  done
  grep -a -E "Test +#|FAIL |rel L2 mean|agree|images/s|opened|out of memory|skipped|FATAL|error" "$LOG/ctest.log" | cut -c1-240 | head -90
  skipped=$(grep -a -c '\*\*\*Skipped' "$LOG/ctest.log")
  passed=$(grep -a -c -E 'Test +#[0-9]+: .* Passed' "$LOG/ctest.log")
  verdict="passed"; { [ $rc = 0 ] && [ -z "$unreached" ]; } || verdict="FAILED or incomplete (ctest rc $rc)"
  summary+=("GPU tests: $verdict, $passed of $(wc -w <<< "$suites") suites passed$( [ "$skipped" != 0 ] && echo ", $skipped SKIPPED")")
  # each suite's verdict and seconds (what sizes the next call), and those the time never reached
  verdicts=$(suite_verdicts "$LOG/ctest.log")
  summary+=("GPU suites: ${verdicts:-none started}${unreached:+; NOT REACHED: ${unreached% }}")
fi

if want sanitize; then
  stage "compute-sanitizer"
  # each run ends by the deadline (a run that would start with under 20 s left is not made);
  # the outer timeout is a backstop, whose TERM the script turns into stopping its run in progress
  SANITIZE_TIMEOUT=$(budget 90) SANITIZE_DEADLINE=$(( START + ${DEADLINE_S:-540} - 20 )) \
    timeout -k 10 "$(budget 300)" profiling/sanitize_gpu.sh $BUILD "$LOG/sanitize" > "$LOG/sanitize.log" 2>&1
  rc=$?; tail -12 "$LOG/sanitize.log"
  runs=$(sed -n '/^compute-sanitizer (/,$p' "$LOG/sanitize.log" | grep -E '^  ' | tr -s ' ' | sed 's/^ //' | paste -sd ';' | sed 's/;/; /g')
  summary+=("compute-sanitizer: $(case $rc in 0) echo clean ;; 77) echo "SKIPPED (no device, no sanitizer or no tests)" ;; 2) echo "incomplete (a run timed out or did not fit)" ;; 124) echo "cut short by the time budget" ;; *) echo "FAILED (rc $rc)" ;; esac)${runs:+: $runs}")
fi

if want bench; then
  stage "cascade bench"
  rm -f "$LOG"/bench.* "$LOG"/targets.txt
  reserve=0; want torch && reserve=${TORCH_RESERVE_S:-150}
  # a bench cut by its timeout (SIGTERM) drops the run in progress and writes what it finished
  # in the order of what TARGETS.md asks of them, should the time run out: resnet34 (every cascade's
  # expensive model) and alexnet_shallower alone, then alexnet_shallower -> resnet34 (the 500k target):
  # bench runs each cascade as soon as its two models are measured alone (its efficiency needs both)
  bench_models=${BENCH_MODELS:-resnet34,alexnet_shallower,alexnet,lenet,alexnet_shallow,resnet18}
  bench_cascades=${BENCH_CASCADES:-alexnet_shallower:resnet34,alexnet:resnet34,lenet:resnet34,alexnet_shallow:resnet34,resnet18:resnet34}
  # bench refuses a setting for a part it skips: --batches only with models, --thresholds only with cascades
  sizes=(); [ "$bench_models" = none ] || sizes=(--batches "${BENCH_BATCHES:-8192}")
  [ "$bench_cascades" = none ] || sizes+=(--thresholds "${BENCH_THRESHOLDS:-0.8,0.9,0.99}")
  # (-k 45: a TERM during a cold network build is taken once the build ends, which cuDNN's finalizing
  # can take tens of seconds; the 45 s come off the bench's own time, so the deadline holds)
  limit=$(budget 420 $(( reserve + 45 )))
  if (( limit < 20 )); then # TERM at once, KILL 45 s later: the deadline would not hold
    summary+=("bench: not run (${limit} s left)"); rc=0
  else
    timeout --foreground -k 45 "$limit" ./$BUILD/cascade bench --device gpu --images "${BENCH_IMAGES:-1000000}" --runs "${BENCH_RUNS:-5}" \
      --warmup-images "${BENCH_WARMUP_IMAGES:-200000}" --models "$bench_models" --cascades "$bench_cascades" "${sizes[@]}" \
      --json "$LOG/bench.json" > "$LOG/bench.txt" 2> "$LOG/bench.err"
    rc=$?; [ $rc = 124 ] && summary+=("bench: cut short by its time budget (SIGTERM: the figures finished before it are in bench.json)")
    grep -q '^time ' "$LOG/bench.txt" && summary+=("bench $(grep -m1 '^time ' "$LOG/bench.txt" | tr -s ' ')")
  fi
  [ $rc = 0 ] || [ $rc = 124 ] || { tail -5 "$LOG/bench.err"; summary+=("bench: FAILED (rc $rc)"); }
  [ $rc = 124 ] && [ ! -s "$LOG/bench.json" ] && summary+=("bench: cut short before its first figure: no bench.json")
fi

if want torch; then
  stage "PyTorch peers"
  rm -f "$LOG"/torch.*
  timeout -k 10 "$(budget 240)" python3 profiling/torch_peer.py --assets "$CASCADE_ASSETS" --ours "$LOG/bench.json" \
    --images "${TORCH_IMAGES:-100000}" --runs "${TORCH_RUNS:-5}" --json "$LOG/torch.json" \
    ${TORCH_ARGS:---models resnet34,alexnet_shallower,lenet --compile resnet34,alexnet_shallower} > "$LOG/torch.txt" 2> "$LOG/torch.err"
  rc=$?; [ $rc = 124 ] && summary+=("torch peers: cut short by the time budget (the peers finished before it are in torch.json)")
  [ $rc = 0 ] || [ $rc = 124 ] || { tail -5 "$LOG/torch.err"; summary+=("torch peers: FAILED (rc $rc)"); }
  # a peer that could not run (a CUDA graph, a torch.compile) is only a line in torch.err otherwise
  [ $rc = 0 ] && summary+=("torch peers: done, $(grep -c 'failed for' "$LOG/torch.err") peer(s) failed$(grep -m3 'failed for' "$LOG/torch.err" | sed 's/^ */: /' | cut -c1-120 | tr '\n' ' ')")
fi

stage "results"
cat "$LOG/bench.txt" "$LOG/torch.txt" 2>/dev/null
if [ -s "$LOG/bench.json" ]; then # the TARGETS.md verdicts, with this call's PyTorch figures when it has them
  torch_json=(); [ -s "$LOG/torch.json" ] && torch_json=(--torch "$LOG/torch.json")
  python3 profiling/targets.py "$LOG/bench.json" "${torch_json[@]}" > "$LOG/targets.txt" 2>&1
  cat "$LOG/targets.txt"
  summary+=("targets: $(grep -c '  met  ' "$LOG/targets.txt") met, $(grep -c '  GAP' "$LOG/targets.txt") short, $(grep -c '  not measured' "$LOG/targets.txt") not measured")
fi
printf '%s\n' "${summary[@]}"
