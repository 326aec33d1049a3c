#!/usr/bin/env bash
# `make test`: runs ctest in the build directory and fails if any test was skipped, unless
# CONVNET_ALLOW_SKIPS=1. A test skips when something it needs is missing (Fashion-MNIST,
# chromium, libonnx-testdata): on CI that is a missing install step, and it must not pass
# as green.
#   scripts/run-tests.sh BUILD_DIR [ctest arguments...]
set -uo pipefail
build=${1:?usage: run-tests.sh BUILD_DIR [ctest args]}
shift
# ctest runs -j$(nproc) test programs that each start OpenMP teams as wide as the machine:
# OpenMP threads that spin while they wait then steal the cores the other program needs.
# Measured on 2 cores: e2e_test_resume beside models_test_onnx_export took 284 s with
# libgomp's default waiting and 194 s with passive waiting (one after the other: 275 s).
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
(cd "$build" && ctest --output-on-failure "$@") 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
[ "$rc" -ne 0 ] && exit "$rc"
skipped=$(grep -E '^[[:space:]]*[0-9]+ - .*\(Skipped\)' "$log" | sed -E 's/^[[:space:]]*[0-9]+ - ([^ ]+).*/\1/' | sort -u)
# The CUDA backend's tests (tests/cuda/, cuda_*) skip where no GPU is found: expected on CI and
# the development machines, which build the backend without a GPU. scripts/gpu_check.sh sets
# CONVNET_REQUIRE_GPU=1, where a skip means the GPU was not used.
if [ "${CONVNET_REQUIRE_GPU:-0}" != "1" ]; then
  gpu_skips=$(echo "$skipped" | grep -E '^cuda_' || true)
  [ -n "$gpu_skips" ] && echo "run-tests: skipped (no CUDA device on this machine):" $gpu_skips
  skipped=$(echo "$skipped" | grep -vE '^cuda_' || true)
fi
if [ -n "$skipped" ]; then
  n=$(echo "$skipped" | wc -l)
  # gtest prints "file:line: Skipped" and then the reason; ctest keeps every test's output.
  grep -h -A1 ': Skipped$' "$build"/Testing/Temporary/LastTest*.log 2>/dev/null | grep -v -e '^--$' -e ': Skipped$' |
    sort | uniq -c | sed 's/^/run-tests: skipped because: /'
  if [ "${CONVNET_ALLOW_SKIPS:-0}" = "1" ]; then
    echo "run-tests: $n test executable(s) skipped, allowed by CONVNET_ALLOW_SKIPS=1:" $skipped
  else
    echo "run-tests: FAILED: $n test executable(s) skipped :" $skipped
    echo "run-tests: scripts/install-deps.sh installs what they need; CONVNET_ALLOW_SKIPS=1 accepts the skips"
    exit 1
  fi
fi
exit 0
