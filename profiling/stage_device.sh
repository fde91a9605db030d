#!/bin/sh
# stage_device.sh: packs what a device call needs beside the checkout into
# two carry folders, each under the 64 MiB a call may send (see README.md):
#   .device-stage/a  resnet34, lenet, alexnet_shallower, the golden logits, the
#                    first 2,000 test images, and OpenBLAS's runtime + headers
#                    (the device image has none): enough to build and run the
#                    quick check and compute-sanitizer on its own
#   .device-stage/b  resnet18, alexnet, alexnet_shallow and the whole test set
#                    (xz): the rest of the zoo, for the full check
# device_check.sh unpacks whichever of the two it finds into $CASCADE_ASSETS
# (and OpenBLAS into /tmp/blas). Run from the checkout; needs apt-get download.
set -e
git rev-parse --show-toplevel >/dev/null 2>&1 || { echo "run this inside the project checkout" >&2; exit 2; }
SHARED=${CASCADE_ASSETS:-$(cd .. && pwd)/shared}
grep -qx '/.device-stage/' .git/info/exclude 2>/dev/null || echo '/.device-stage/' >> .git/info/exclude
rm -rf .device-stage/a .device-stage/b
mkdir -p .device-stage/a/weights .device-stage/a/golden .device-stage/a/data/cifar10 \
         .device-stage/b/weights .device-stage/b/data/cifar10

for m in resnet34 lenet alexnet_shallower; do cp "$SHARED/weights/$m.safetensors" .device-stage/a/weights/; done
cp "$SHARED/golden/test_logits.safetensors" .device-stage/a/golden/
cp "$SHARED/data/cifar10/batches.meta.txt" .device-stage/a/data/cifar10/
head -c $((2000 * 3073)) "$SHARED/data/cifar10/test_batch.bin" | xz -T2 -6 > .device-stage/a/data/cifar10/test_batch.bin.xz

for m in resnet18 alexnet alexnet_shallow; do cp "$SHARED/weights/$m.safetensors" .device-stage/b/weights/; done
xz -T2 -6 -c "$SHARED/data/cifar10/test_batch.bin" > .device-stage/b/data/cifar10/test_batch.bin.xz

# OpenBLAS: Debian's packages, cut down to the shared library and two headers.
debs=$(mktemp -d) tree=$(mktemp -d)
(cd "$debs" && apt-get download libopenblas0-pthread libopenblas-pthread-dev libgfortran5 libquadmath0 >/dev/null)
for f in "$debs"/*.deb; do dpkg -x "$f" "$tree"; done
lib=usr/lib/x86_64-linux-gnu inc=usr/include/x86_64-linux-gnu/openblas-pthread
(cd "$tree" && tar -cJf "$OLDPWD/.device-stage/a/blas.tar.xz" $inc/cblas.h $inc/openblas_config.h \
    $lib/openblas-pthread/libopenblas.so $lib/openblas-pthread/libopenblas.so.0 $lib/openblas-pthread/libopenblasp-r*.so \
    $lib/libgfortran.so.5* $lib/libquadmath.so.0*)
rm -rf "$debs" "$tree"
# each call sends the working tree (tracked files and untracked ones git does not ignore) plus one stage
tree_bytes=$( { git ls-files -z; git ls-files -z --others --exclude-standard; } | xargs -0 -r stat -c %s 2>/dev/null | awk '{n += $1} END {print n + 0}')
for s in a b; do
  bytes=$(( $(du -sb .device-stage/$s | cut -f1) + tree_bytes ))
  echo "call with .device-stage/$s: $(( bytes / 1048576 )) MiB of the 64 MiB a call may send"
  [ $bytes -le $((64 * 1048576)) ] || { echo "stage_device: .device-stage/$s and the working tree exceed 64 MiB" >&2; exit 1; }
done
