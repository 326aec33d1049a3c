#!/usr/bin/env bash
# Installs every Debian package that the build, the demo and the tests need.
# Idempotent: when everything is present it prints nothing and exits 0.
set -euo pipefail
PKGS=(
  build-essential cmake pkg-config
  libdnnl-dev libopenblas-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  nlohmann-json3-dev libcli11-dev libstb-dev zlib1g-dev
  python3 python3-venv python3-pip python3-numpy python3-pil python3-torch python3-torchvision
  dataset-fashion-mnist
  libonnx-dev libprotobuf-dev protobuf-compiler python3-onnx libonnx-testdata
  doxygen   # `make docs` and the api_docs test
  clang     # `make fuzz`: libFuzzer, ASan and UBSan (CI runs it after make test)
  chromium  # headless browser: the e2e test opens `convnet report`'s page
  openmpi-bin libopenmpi-dev  # data-parallel training (mpirun; src/dist/) and its tests
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# ONNX Runtime, the second opinion on exported ONNX files (python/ort_run.py), from PyPI
# (Debian has no package): a virtual environment of the project's, .venv, that also sees
# Debian's python3 packages. Pinned, so that a test run does not change with PyPI.
ORT_VERSION=1.23.2
venv="$(cd "$(dirname "$0")/.." && pwd)/.venv"
if ! "$venv/bin/python" -c "import onnxruntime as o, sys; sys.exit(o.__version__ != '$ORT_VERSION')" 2>/dev/null; then
  echo "install-deps: installing onnxruntime $ORT_VERSION from PyPI into $venv"
  rm -rf "$venv"
  /usr/bin/python3 -m venv --system-site-packages "$venv"  # Debian's python3, whose packages it sees
  "$venv/bin/pip" install -q --disable-pip-version-check "onnxruntime==$ORT_VERSION"
fi
