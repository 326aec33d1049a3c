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
# Fashion-MNIST for the GPU training test (tests/cuda/test_cuda_train.cpp): the test set and the
# first 6,000 training images, as valid IDX files (the whole set would not fit the 64 MiB that
# travels).
mnist=/usr/share/datasets/fashion-mnist
if [ -d "$mnist" ]; then
  mkdir -p "$dest/fashion-mnist"
  cp "$mnist"/t10k-*.gz "$dest/fashion-mnist/"
  python3 - "$mnist" "$dest/fashion-mnist" 6000 <<'PY'
import gzip, struct, sys
src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
for name, item in (("train-images-idx3-ubyte.gz", 28 * 28), ("train-labels-idx1-ubyte.gz", 1)):
    data = gzip.open(f"{src}/{name}").read()
    dims = data[3]
    header = bytearray(data[:4 + 4 * dims])
    struct.pack_into(">I", header, 4, n)  # the item count
    with gzip.open(f"{dst}/{name}", "wb") as f:
        f.write(bytes(header) + data[len(header):len(header) + n * item])
PY
fi
du -sh "$dest" | sed 's/^/gpu_bundle: /'
ls "$dest/debs" | wc -l | sed 's/^/gpu_bundle: .deb files: /'
