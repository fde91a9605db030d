#!/usr/bin/env bash
# device_check.sh: the whole GPU check, one call on the lent machine.
# Configures and builds with CMake, runs the GPU tests against the golden
# logits, compute-sanitizer on the GPU tests, `cascade bench` and the PyTorch
# peers on the same card, and prints a short table last. Full logs go to
# $OUT (the device tool brings them back).
#   CASCADE_ASSETS=/tmp/assets profiling/device_check.sh
# Knobs: STAGES (default "tests sanitize bench torch"; the build always runs and is
# incremental: build-device/ and /tmp stay while the machine is warm, so a 10-minute
# call limit is met by splitting, e.g. STAGES="tests" then STAGES="bench torch"),
# BENCH_IMAGES (500000), BENCH_RUNS (5), TORCH_IMAGES (200000).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/device-check}
mkdir -p "$OUT"
export CASCADE_ASSETS=${CASCADE_ASSETS:-../shared}
export PATH=/opt/torch/.venv/bin:/usr/local/cuda/bin:$PATH PYTHONUNBUFFERED=1
BUILD=build-device
stage() { echo "== $1 ($(date +%T))"; }
summary=()
STAGES=" ${STAGES:-tests sanitize bench torch} "
want() { [[ "$STAGES" == *" $1 "* ]]; }

stage "device"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader | tee "$OUT/gpu.txt"

stage "configure + build"
cudnn_args=()
if [ ! -e /usr/include/x86_64-linux-gnu/cudnn.h ] && [ ! -e /usr/local/cuda/include/cudnn.h ]; then
  pip_cudnn=$(python3 -c 'import nvidia.cudnn, os; print(os.path.dirname(nvidia.cudnn.__file__))' 2>/dev/null)
  [ -n "$pip_cudnn" ] && cudnn_args=(-DCUDNN_ROOT="$pip_cudnn") && export LD_LIBRARY_PATH="$pip_cudnn/lib:${LD_LIBRARY_PATH:-}"
fi
# OpenBLAS (CPU backend): the system's, else Debian's packages unpacked by the staging call into /tmp/blas
blas_args=()
if [ ! -e /usr/include/x86_64-linux-gnu/openblas-pthread/cblas.h ] && [ ! -e /usr/include/openblas/cblas.h ]; then
  if [ ! -d /tmp/blas/usr ] && ls .device-stage/blas/*.deb >/dev/null 2>&1; then
    mkdir -p /tmp/blas && for f in .device-stage/blas/*.deb; do dpkg -x "$f" /tmp/blas; done
  fi
  if [ -d /tmp/blas/usr ]; then
    blas_args=(-DOPENBLAS_ROOT=/tmp/blas)
    export LD_LIBRARY_PATH="/tmp/blas/usr/lib/x86_64-linux-gnu/openblas-pthread:/tmp/blas/usr/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}"
  else
    echo "device_check: no OpenBLAS here; stage it first (profiling/stage_blas.sh, see profiling/README.md)"
  fi
fi
if ! { cmake -S . -B $BUILD -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 "${cudnn_args[@]}" "${blas_args[@]}" \
       && cmake --build $BUILD -j "$(nproc)"; } > "$OUT/build.log" 2>&1; then
  tail -40 "$OUT/build.log"; echo "device_check: build failed"; exit 1
fi
grep -E "cuDNN:|OpenBLAS:" "$OUT/build.log"

if want tests; then
  stage "GPU tests"
  ctest --test-dir $BUILD -R 'gpu' --output-on-failure --timeout 300 > "$OUT/ctest.log" 2>&1
  rc=$?; grep -E "Test +#|tests passed|skipped" "$OUT/ctest.log"
  skipped=$(grep -c '\*\*\*Skipped' "$OUT/ctest.log")
  summary+=("GPU tests: $( [ $rc = 0 ] && echo passed || echo FAILED) (ctest rc $rc, $skipped skipped)")
fi

if want sanitize && [ -x profiling/sanitize_gpu.sh ]; then
  stage "compute-sanitizer"
  timeout 300 profiling/sanitize_gpu.sh $BUILD > "$OUT/sanitize.log" 2>&1
  rc=$?; tail -12 "$OUT/sanitize.log"
  summary+=("compute-sanitizer: $( [ $rc = 0 ] && echo clean || echo "FAILED (rc $rc)")")
fi

if want bench; then
stage "cascade bench"
./$BUILD/cascade bench --device gpu --images "${BENCH_IMAGES:-500000}" --runs "${BENCH_RUNS:-5}" \
  --cascades lenet:resnet34,alexnet_shallower:resnet34,alexnet_shallow:resnet34,alexnet:resnet34 \
  --thresholds 0.8,0.9,0.95,0.99 --json "$OUT/bench.json" > "$OUT/bench.txt" 2> "$OUT/bench.err"
rc=$?; [ $rc = 0 ] || { tail -5 "$OUT/bench.err"; summary+=("bench: FAILED (rc $rc)"); }
cp "$OUT/bench.json" /tmp/device-bench.json 2>/dev/null # for a later torch-only call
fi

if want torch; then
  stage "PyTorch peers"
  timeout 420 python3 profiling/torch_peer.py --assets "$CASCADE_ASSETS" --ours /tmp/device-bench.json \
    --images "${TORCH_IMAGES:-200000}" > "$OUT/torch.txt" 2> "$OUT/torch.err"
  rc=$?; [ $rc = 0 ] || { tail -5 "$OUT/torch.err"; summary+=("torch peers: FAILED (rc $rc)"); }
fi

stage "results"
cat "$OUT/bench.txt" 2>/dev/null
cat "$OUT/torch.txt" 2>/dev/null
printf '%s\n' "${summary[@]}"
