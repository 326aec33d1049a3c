#!/usr/bin/env bash
# Installs every Debian package that the build, the demo and the tests need.
# Idempotent: when everything is present it prints nothing and exits 0.
set -euo pipefail
PKGS=(
  build-essential cmake pkg-config
  libdnnl-dev libopenblas-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  nlohmann-json3-dev libcli11-dev libstb-dev zlib1g-dev
  python3 python3-numpy python3-torch python3-torchvision
  dataset-fashion-mnist
  libonnx-dev libprotobuf-dev protobuf-compiler python3-onnx libonnx-testdata
  chromium  # headless browser: the e2e test opens `convnet report`'s page
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
