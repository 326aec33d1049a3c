#!/usr/bin/env bash
# convnet inference against ONNX Runtime (CPU) on the same ONNX files, the same machine and
# the same thread count, one after the other: `convnet export` writes each model (random
# weights: the speed does not depend on them), then `convnet bench --onnx` (an
# InferenceSession: BatchNorm folded, activations and residual adds fused) and
# python/bench/ort_bench.py (ONNX Runtime with all graph optimizations) time it.
#
#   scripts/bench_vs_ort.sh [--threads 2] [--batches 1,32] [--seconds 4] [--build build]
#                           [--models resnet18:224,mobilenet_v2:224,resnet20:32]
#
# Prints a markdown table of images/s and the ratio convnet / ONNX Runtime (> 1: convnet is
# faster). ONNX Runtime is the project's (.venv, scripts/install-deps.sh). The machine may be
# shared: compare the ratios of one run, not absolute numbers across runs.
set -euo pipefail
cd "$(dirname "$0")/.."

THREADS=2 BATCHES=1,32 SECONDS_=4 BUILD=build MODELS=resnet18:224,mobilenet_v2:224,resnet20:32
while [ $# -gt 0 ]; do
  case "$1" in
    --threads) THREADS=$2; shift 2 ;;
    --batches) BATCHES=$2; shift 2 ;;
    --seconds) SECONDS_=$2; shift 2 ;;
    --models) MODELS=$2; shift 2 ;;
    --build) BUILD=$2; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "bench_vs_ort: unknown argument $1" >&2; exit 2 ;;
  esac
done
CONVNET="$BUILD/convnet"
ORT_PY=.venv/bin/python
[ -x "$CONVNET" ] || { echo "bench_vs_ort: $CONVNET not found; build first (make build)" >&2; exit 1; }
"$ORT_PY" -c 'import onnxruntime' 2>/dev/null ||
  { echo "bench_vs_ort: no ONNX Runtime in .venv; run scripts/install-deps.sh" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
field() { sed -nE "s/.*\"$1\": ?([0-9.]+).*/\1/p" | head -1; }

ort_version=$("$ORT_PY" -c 'import onnxruntime; print(onnxruntime.__version__)')
echo "| model | input | batch | convnet img/s | ONNX Runtime $ort_version img/s | convnet / ORT |"
echo "| --- | --- | ---: | ---: | ---: | ---: |"
for spec in ${MODELS//,/ }; do
  model=${spec%%:*} size=${spec##*:}
  onnx="$tmp/$model.onnx"
  classes=10
  [ "$size" -ge 224 ] && classes=1000  # the ImageNet head at the ImageNet size
  "$CONVNET" export "$model" --input-size "$size" --in-channels 3 --num-classes "$classes" --onnx "$onnx" >/dev/null 2>&1
  for batch in ${BATCHES//,/ }; do
    ours=$("$CONVNET" bench --onnx "$onnx" --mode infer --batch "$batch" --threads "$THREADS" --seconds "$SECONDS_" |
           field images_per_s)
    theirs=$("$ORT_PY" python/bench/ort_bench.py "$onnx" --batch "$batch" --threads "$THREADS" --seconds "$SECONDS_" |
             field images_per_second)
    ratio=$(awk -v a="$ours" -v b="$theirs" 'BEGIN { printf "%.2fx", a / b }')
    echo "| $model | 3x${size}x${size} | $batch | $ours | $theirs | $ratio |"
  done
done
