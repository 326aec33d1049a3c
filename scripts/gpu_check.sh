#!/usr/bin/env bash
# One command for a lent GPU machine (issue 15; see scripts/gpu_bundle.sh, which must have
# filled .gpu/ here first and which the device run carries). Under 8 minutes on one H200 with
# 16 cores:
#   1. unpacks the bundled .deb files into a prefix and configures convnet with CUDA against
#      it and the cuDNN of PyTorch's environment, and builds the library, the CLI and the GPU
#      tests on all cores;
#   2. runs the GPU tests (tests/cuda/, ctest label cuda) with CONVNET_REQUIRE_GPU=1, so a skip
#      fails;
#   3. times `convnet bench --device cuda` (float32 and --precision bf16) beside
#      ../shared/bench/pytorch_zoo_peer.py (float32, and bf16 autocast with channels-last) for
#      resnet18, resnet50, mobilenet_v2 at 224 and resnet20 at 32; one JSON line per run.
# Everything it prints also goes to $OUT/gpu_check.log (or build-gpu/gpu_check.log).
#   scripts/gpu_check.sh
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${OUT:-$root/build-gpu}
mkdir -p "$out"
exec > >(tee "$out/gpu_check.log") 2>&1
step() { echo; echo "=== gpu_check: $* ($(date +%T))"; }

step "machine"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
nproc

step "dependencies from .gpu/debs"
[ -d "$root/.gpu/debs" ] || { echo "gpu_check: no .gpu/debs; run scripts/gpu_bundle.sh here first and carry .gpu"; exit 2; }
prefix=/tmp/convnet-deps
arch=x86_64-linux-gnu
for f in "$root"/.gpu/debs/*.deb; do dpkg -x "$f" "$prefix"; done
cudnn=$(python3 -c 'import nvidia.cudnn as m; print(list(m.__path__)[0])' 2>/dev/null || true)
echo "cuDNN: ${cudnn:-not found in the environment of python3}"
libs="$prefix/usr/lib/$arch:$prefix/usr/lib/$arch/openblas-pthread"
# cuBLAS is opened at run time (libcublas.so.13): the toolkit's, else the pip wheel's.
cublas=$(python3 -c 'import nvidia.cublas as m; print(list(m.__path__)[0])' 2>/dev/null || true)
export LD_LIBRARY_PATH="$libs:${cudnn:+$cudnn/lib:}/usr/local/cuda/lib64:${cublas:+$cublas/lib:}${LD_LIBRARY_PATH:-}"

step "configure and build"
gen=()
command -v ninja >/dev/null && gen=(-G Ninja)
cmake -S "$root" -B "$root/build-gpu" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release -DCONVNET_CUDA=ON \
  -DCUDNN_ROOT="$cudnn" -DCMAKE_PREFIX_PATH="$prefix/usr" \
  -DCMAKE_INCLUDE_PATH="$prefix/usr/include/$arch/openblas-pthread;$prefix/usr/include/$arch;$prefix/usr/include" \
  -DCMAKE_LIBRARY_PATH="$prefix/usr/lib/$arch/openblas-pthread;$prefix/usr/lib/$arch" || exit 1
cmake --build "$root/build-gpu" -j "$(nproc)" --target convnet cuda_test_cuda_kernels cuda_test_cuda_lowp \
  cuda_test_cuda_models cuda_test_cuda_train || exit 1
# The bundled Fashion-MNIST subset (gpu_bundle.sh) where Debian's package is not installed.
[ -d /usr/share/datasets/fashion-mnist ] || export CONVNET_FASHION_MNIST_DIR="$root/.gpu/fashion-mnist"

step "GPU tests"
(cd "$root/build-gpu" && CONVNET_REQUIRE_GPU=1 "$root/scripts/run-tests.sh" "$root/build-gpu" -L cuda -j 1)
rc=$?

step "benchmark: convnet bench --device cuda (float32, bf16) beside PyTorch (float32, and bf16 autocast channels-last)"
# model, input size, batch; convnet's resnet20_b is the option-B ResNet-20 of the PyTorch peer.
peer="$root/.gpu/bench/pytorch_zoo_peer.py"
for m in "resnet18 resnet18 224 256" "resnet50 resnet50 224 128" "mobilenet_v2 mobilenet_v2 224 256" \
         "resnet20_b resnet20 32 512"; do
  set -- $m
  for prec in fp32 bf16; do
    for mode in train infer; do
      timeout 60 "$root/build-gpu/convnet" bench --device cuda --model "$1" --input-size "$3" --batch "$4" \
        --mode "$mode" --engine eager --precision "$prec" --seconds 3 2>&1 | tail -2
    done
  done
  if [ -f "$peer" ]; then
    timeout 90 python3 "$peer" --device cuda --models "$2" --size "$3" --batch "$4" --modes train,infer --seconds 3 \
      2>&1 | tail -2
    timeout 90 python3 "$peer" --device cuda --models "$2" --size "$3" --batch "$4" --modes train,infer --seconds 3 \
      --amp bf16 --channels-last 2>&1 | tail -2
  fi
done
step "done: GPU tests exit $rc"
exit $rc
