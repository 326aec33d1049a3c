#!/usr/bin/env bash
# Prepares what scripts/gpu_check.sh needs on a lent GPU machine, which has CUDA, cuDNN (the
# nvidia-cudnn-cu13 wheel in PyTorch's environment), CMake and ninja but none of the
# project's Debian packages and no network: the build's dependencies as .deb files and the
# peer benchmarks of ../shared/bench, in .gpu/ (ignored by git, about 25 MB). Run it here,
# then name .gpu in the device run's `carry`.
#   scripts/gpu_bundle.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dest=$root/.gpu
rm -rf "$dest"
mkdir -p "$dest/debs" "$dest/bench"
# The -dev packages the build finds, and the shared libraries they link, minus what every
# Ubuntu/Debian image has (libc, libstdc++).
pkgs=(libdnnl-dev libdnnl2 ocl-icd-libopencl1
      libopenblas-dev libopenblas-pthread-dev libopenblas0 libopenblas0-pthread libgfortran5 libquadmath0
      libonnx-dev libonnx1 libprotobuf-dev libprotobuf32 libprotobuf-lite32
      nlohmann-json3-dev libcli11-dev libstb-dev libstb0 zlib1g-dev zlib1g
      googletest libgtest-dev libgmock-dev)
(cd "$dest/debs" && apt-get download -q "${pkgs[@]}" >/dev/null)
if [ -d "$root/../shared/bench" ]; then cp -r "$root/../shared/bench/." "$dest/bench/"; fi
du -sh "$dest" | sed 's/^/gpu_bundle: /'
ls "$dest/debs" | wc -l | sed 's/^/gpu_bundle: .deb files: /'
