#!/usr/bin/env bash
# The fuzz targets' seed corpora, made from valid files (`make fuzz` calls it):
#   scripts/fuzz-seeds.sh CONVNET_CLI OUT_DIR
# OUT_DIR/<target>/ gets: safetensors (weights of lenet5, an input batch, each dtype),
# onnx (lenet5 and resnet20 exported), idx (Fashion-MNIST cut to 3 images), cifar (3
# records), image (PNG, JPEG, BMP, GIF, PGM, PPM of one test image), checkpoint (a 1-epoch
# lenet5 run's best and last), pth (torch.save state dicts: both formats, every dtype, views).
set -euo pipefail
cli=${1:?usage: fuzz-seeds.sh CONVNET_CLI OUT_DIR}
out=${2:?usage: fuzz-seeds.sh CONVNET_CLI OUT_DIR}
mkdir -p "$out"/{safetensors,onnx,idx,cifar,image,checkpoint,pth}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$cli" train --epochs 1 --limit-train 256 --batch-size 64 --workers 0 --threads 2 --quiet --out "$tmp/run" >/dev/null
cp "$tmp/run/last.safetensors" "$out/checkpoint/last"
cp "$tmp/run/best.safetensors" "$out/checkpoint/best"
"$cli" export lenet5 --onnx "$out/onnx/lenet5.onnx" >/dev/null 2>&1
"$cli" export resnet20 --onnx "$out/onnx/resnet20.onnx" >/dev/null 2>&1
/usr/bin/python3 - "$out" <<'PY'
import gzip, os, struct, sys
import numpy as np
from PIL import Image
sys.path.insert(0, os.path.join(os.getcwd(), "python"))
import safetensors_io
out = sys.argv[1]
rng = np.random.default_rng(0)
for dt in (np.float32, np.float64, np.int64, np.int32, np.uint8):
    safetensors_io.save(f"{out}/safetensors/{np.dtype(dt).name}", {"x": (rng.standard_normal((2, 3, 4, 4)) * 9).astype(dt),
                                                                    "b": np.arange(3).astype(dt)}, {"k": "v"})
data = "/usr/share/datasets/fashion-mnist"
im = gzip.open(f"{data}/t10k-images-idx3-ubyte.gz").read()
lb = gzip.open(f"{data}/t10k-labels-idx1-ubyte.gz").read()
images = struct.pack(">IIII", 0x803, 3, 28, 28) + im[16:16 + 3 * 784]
labels = struct.pack(">II", 0x801, 3) + lb[8:11]
cut = len(images) * 255 // (len(images) + len(labels))
open(f"{out}/idx/three", "wb").write(bytes([cut]) + images + labels)
rec = lambda k: bytes([k]) + rng.integers(0, 255, 3072, dtype=np.uint8).tobytes()
open(f"{out}/cifar/three", "wb").write(rec(1) + rec(7) + rec(3))
img = Image.fromarray(np.frombuffer(im[16:16 + 784], np.uint8).reshape(28, 28))
rgb = Image.merge("RGB", (img, img.transpose(Image.FLIP_LEFT_RIGHT), img))
for fmt, ext, pic in (("PNG", "png", rgb), ("JPEG", "jpg", rgb), ("BMP", "bmp", rgb), ("GIF", "gif", img),
                      ("PPM", "pgm", img), ("PPM", "ppm", rgb), ("PNG", "gray.png", img)):
    pic.save(f"{out}/image/seed.{ext}", fmt)
import collections, torch
torch.manual_seed(0)
m = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2), torch.nn.Linear(4, 3))
x = torch.randn(3, 4)
extra = collections.OrderedDict(h=x.half(), b=x.bfloat16(), d=x.double(), t=x.t(), s=x[1:, ::2], i=torch.arange(4))
for zipped in (True, False):
    tag = "zip" if zipped else "legacy"
    torch.save(m.state_dict(), f"{out}/pth/model_{tag}", _use_new_zipfile_serialization=zipped)
    torch.save(extra, f"{out}/pth/views_{tag}", _use_new_zipfile_serialization=zipped)
    torch.save({"epoch": 3, "state_dict": m.state_dict()}, f"{out}/pth/wrapped_{tag}", _use_new_zipfile_serialization=zipped)
PY
echo "fuzz-seeds: $(find "$out" -type f | wc -l) seeds in $out"
