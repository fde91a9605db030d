#!/bin/sh
# stage_blas.sh: Debian's OpenBLAS packages, for a device machine that has no
# OpenBLAS and cannot fetch it (see README.md here). Run from the checkout;
# fills .device-stage/blas (ignored by git, about 12 MB); carry it in its own
# device call: `mkdir -p /tmp/blas && for f in .device-stage/blas/*.deb; do dpkg -x $f /tmp/blas; done`.
# device_check.sh then builds with -DOPENBLAS_ROOT=/tmp/blas.
set -e
git rev-parse --show-toplevel >/dev/null 2>&1 || { echo "run this inside the project checkout" >&2; exit 2; }
grep -qx '/.device-stage/' .git/info/exclude 2>/dev/null || echo '/.device-stage/' >> .git/info/exclude
mkdir -p .device-stage/blas
cd .device-stage/blas
apt-get download libopenblas0-pthread libopenblas-pthread-dev libgfortran5 2>/dev/null
ls -la
