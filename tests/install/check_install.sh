#!/usr/bin/env bash
# The installed package, as a C++ project uses it (ctest `install_examples`):
#   1. `cmake --install` into a temporary prefix;
#   2. the shared library exports convnet's names only (no oneDNN, protobuf, ONNX, CLI11,
#      nlohmann or kernel symbols);
#   3. find_package(convnet 0.2) works, find_package(convnet 9.0) fails with CMake's version
#      message; pkg-config compiles and links a program;
#   4. the five examples/ projects build against the prefix, and each runs on small inputs:
#      train_lenet one short epoch, classify and inference on its checkpoint (inference from
#      4 threads and on image bytes), custom_model and finetune on a generated image folder; train_lenet on a missing directory names the file it expected.
#   check_install.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(cd "${1:?usage: check_install.sh BUILD_DIR SOURCE_DIR}" && pwd)
src=$(cd "${2:?usage: check_install.sh BUILD_DIR SOURCE_DIR}" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
fail() { echo "check_install: FAILED: $*" >&2; exit 1; }
step() { echo "== $*"; }

step "install into $prefix"
cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" || { cat "$tmp/install.log"; fail "cmake --install"; }
for f in include/convnet/convnet.h include/convnet/version.h include/convnet/core/tensor.h bin/convnet \
         lib/cmake/convnet/convnetConfig.cmake lib/cmake/convnet/convnetConfigVersion.cmake lib/pkgconfig/convnet.pc; do
  [ -e "$prefix/$f" ] || [ -e "$prefix/${f/lib\//lib64/}" ] || fail "the install has no $f"
done
libdir=$(dirname "$(find "$prefix" -name 'libconvnet.so*' -o -name 'libconvnet.a' | head -1)")
[ -n "$libdir" ] || fail "no libconvnet under $prefix"
"$prefix/bin/convnet" --version | grep -q . || fail "the installed convnet does not run"

step "public headers include only public headers"
if grep -rnE '#include\s*[<"](dnnl|oneapi|google/|onnx/|CLI/|nlohmann/|kernels/|src/)' "$prefix/include/convnet"; then
  fail "an installed header includes a private or third-party header"
fi

step "every public header exports its names and is in the umbrella header"
for h in $(cd "$prefix/include" && find convnet -name '*.h' | sort); do
  [ "$(sed -n 2p "$prefix/include/$h")" = "#pragma GCC visibility push(default)" ] &&
    [ "$(tail -n 1 "$prefix/include/$h")" = "#pragma GCC visibility pop" ] ||
    fail "$h does not open with '#pragma GCC visibility push(default)' (line 2) and end with the pop: its names would be hidden in libconvnet.so"
  [ "$h" = convnet/convnet.h ] || grep -q "#include \"$h\"" "$prefix/include/convnet/convnet.h" ||
    fail "convnet/convnet.h does not include $h"
done

if [ -e "$libdir/libconvnet.so" ]; then
  step "exported symbols"
  nm -DC --defined-only "$libdir/libconvnet.so" | awk '{ $1=""; $2=""; print }' >"$tmp/exports.txt"
  echo "$(wc -l <"$tmp/exports.txt") symbols exported"
  if grep -E '(^| )(dnnl|google::|onnx::|CLI::|nlohmann::|convnet::kernels::|stbi)' "$tmp/exports.txt" | head; then
    fail "libconvnet.so exports symbols of its dependencies or internals (above)"
  fi
  grep -q 'convnet::Tensor::backward' "$tmp/exports.txt" || fail "convnet::Tensor::backward is not exported"
  grep -q 'typeinfo for convnet::Error' "$tmp/exports.txt" || fail "typeinfo for convnet::Error is not exported"
fi

step "find_package version check"
mkdir -p "$tmp/v9"
cat >"$tmp/v9/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.20)
project(v9 LANGUAGES CXX)
find_package(convnet 9.0 REQUIRED)
CM
if cmake -S "$tmp/v9" -B "$tmp/v9/b" -DCMAKE_PREFIX_PATH="$prefix" >"$tmp/v9.log" 2>&1; then
  fail "find_package(convnet 9.0) succeeded"
fi
grep -q 'but it set convnet_FOUND to FALSE\|not compatible\|version: 0\.' "$tmp/v9.log" || { cat "$tmp/v9.log"; fail "no version message"; }
grep -A4 'version' "$tmp/v9.log" | head -8

step "pkg-config"
cat >"$tmp/pc.cpp" <<'CPP'
#include <convnet/convnet.h>
#include <cstdio>
#include <cstring>
int main() {
  convnet::Tensor x = convnet::Tensor::ones({2, 3});
  std::printf("convnet %s (headers %s), sum %g\n", convnet::version(), CONVNET_VERSION, convnet::ops::sum(x).item());
  return std::strcmp(convnet::version(), CONVNET_VERSION) == 0 ? 0 : 1;
}
CPP
PKG_CONFIG_PATH="$libdir/pkgconfig" g++ -O1 "$tmp/pc.cpp" -o "$tmp/pc" \
  $(PKG_CONFIG_PATH="$libdir/pkgconfig" pkg-config --cflags --libs convnet) -Wl,-rpath,"$libdir"
"$tmp/pc"

for ex in train_lenet classify inference custom_model finetune; do
  step "build examples/$ex against the install"
  cmake -S "$src/examples/$ex" -B "$tmp/$ex" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_CXX_FLAGS="-Wall -Wextra -Werror" >"$tmp/$ex.log" 2>&1 &&
    cmake --build "$tmp/$ex" -j2 >>"$tmp/$ex.log" 2>&1 || { cat "$tmp/$ex.log"; fail "examples/$ex does not build"; }
done

step "train_lenet: one short epoch"
data=/usr/share/datasets/fashion-mnist
"$tmp/train_lenet/train_lenet" "$data" "$tmp/lenet5.safetensors" 1 60 | tee "$tmp/train.log"
grep -qE 'epoch 1: test accuracy [0-9.]+%' "$tmp/train.log" || fail "train_lenet printed no accuracy"
acc=$(sed -nE 's/.*test accuracy ([0-9.]+)%.*/\1/p' "$tmp/train.log")
awk -v a="$acc" 'BEGIN { exit !(a > 50) }' || fail "60 steps of LeNet-5 reached only $acc% (expected > 50%)"

step "train_lenet on a missing directory names the file"
if "$tmp/train_lenet/train_lenet" "$tmp/no-such-dir" "$tmp/x.safetensors" 1 1 2>"$tmp/missing.log"; then
  fail "train_lenet succeeded without data"
fi
cat "$tmp/missing.log"
grep -q "$tmp/no-such-dir" "$tmp/missing.log" && grep -q 'train-images-idx3-ubyte' "$tmp/missing.log" ||
  fail "the error does not name the directory and the file expected"

# Images: five test images of Fashion-MNIST as PGM files, and a two-class folder of RGB PPMs
# (bright squares vs dark squares) for custom_model, with a grayscale twin for finetune.
/usr/bin/python3 - "$data" "$tmp" <<'PY'
import gzip, os, random, sys
data, tmp = sys.argv[1], sys.argv[2]
raw = gzip.open(os.path.join(data, "t10k-images-idx3-ubyte.gz")).read()[16:]
for i in range(5):
    with open(os.path.join(tmp, f"test{i}.pgm"), "wb") as f:
        f.write(b"P5 28 28 255\n" + raw[i * 784:(i + 1) * 784])
rng = random.Random(0)
for cls, lo, hi in (("dark", 0, 90), ("bright", 165, 255)):
    for kind, ch, magic in (("rgb", 3, b"P6"), ("gray", 1, b"P5")):
        d = os.path.join(tmp, "folder_" + kind, cls)
        os.makedirs(d, exist_ok=True)
        for i in range(24):
            px = bytes(rng.randint(lo, hi) for _ in range(28 * 28 * ch))
            with open(os.path.join(d, f"{i}.{'ppm' if ch == 3 else 'pgm'}"), "wb") as f:
                f.write(magic + b" 28 28 255\n" + px)
PY

step "classify on train_lenet's checkpoint"
"$tmp/classify/classify" "$tmp/lenet5.safetensors" "$tmp"/test*.pgm | tee "$tmp/classify.log"
[ "$(grep -cE '^  1\. ' "$tmp/classify.log")" = 5 ] || fail "classify did not rank 5 images"
# The first test images of Fashion-MNIST are an ankle boot, a pullover and a trouser.
grep -A1 'test0.pgm' "$tmp/classify.log" | grep -q 'Ankle boot' || fail "test0 (an ankle boot) misclassified"
grep -A1 'test2.pgm' "$tmp/classify.log" | grep -q 'Trouser' || fail "test2 (a trouser) misclassified"

step "inference on train_lenet's checkpoint: 4 threads, and images from their bytes"
"$tmp/inference/inference" "$tmp/lenet5.safetensors" "$tmp/test0.pgm" "$tmp/test2.pgm" | tee "$tmp/inference.log"
grep -q 'test0.pgm: class 9 (Ankle boot)' "$tmp/inference.log" || fail "inference: test0 (an ankle boot) misclassified"
grep -q 'test2.pgm: class 1 (Trouser)' "$tmp/inference.log" || fail "inference: test2 (a trouser) misclassified"
if "$tmp/inference/inference" "$tmp/lenet5.safetensors" "$tmp/train.log" 2>"$tmp/inference_bad.log"; then
  fail "inference classified a text file"
fi
grep -q 'image bytes' "$tmp/inference_bad.log" || { cat "$tmp/inference_bad.log"; fail "no message naming the bytes"; }

step "custom_model: two epochs on an image folder, then ONNX"
"$tmp/custom_model/custom_model" "$tmp/folder_rgb" "$tmp/tiny.onnx" 2 16 | tee "$tmp/custom.log"
[ -s "$tmp/tiny.onnx" ] || fail "custom_model wrote no ONNX file"
"$prefix/bin/convnet" bench --onnx "$tmp/tiny.onnx" --mode infer --batch 2 --seconds 0.2 >"$tmp/onnx.log" 2>&1 ||
  { cat "$tmp/onnx.log"; fail "the installed convnet cannot run custom_model's ONNX"; }

step "finetune: train_lenet's weights, a new 2-class head"
"$tmp/finetune/finetune" lenet5 "$tmp/lenet5.safetensors" "$tmp/folder_gray" 2 28 "$tmp/ft.safetensors" | tee "$tmp/ft.log"
grep -q 'lenet5 from .* (10 classes) -> 2 classes' "$tmp/ft.log" || fail "finetune did not replace the head"
[ -s "$tmp/ft.safetensors" ] || fail "finetune wrote no weights"
echo "check_install: OK"
