#!/usr/bin/env bash
# `make fuzz SECONDS=N`: runs every libFuzzer target of BUILD_DIR (a -DCONVNET_FUZZ=ON build)
# for N seconds, from its seed corpus (scripts/fuzz-seeds.sh) and the inputs that crashed it
# before (fuzz/regressions/<target>/). A new crash, hang (over 5 s) or allocation over 2 GB
# is saved into fuzz/regressions/<target>/ (replayed by ctest from then on) and fails the run.
#   scripts/fuzz.sh BUILD_DIR SECONDS [TARGET...]
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:?usage: fuzz.sh BUILD_DIR SECONDS [TARGET...]}
secs=${2:?usage: fuzz.sh BUILD_DIR SECONDS [TARGET...]}
shift 2
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(safetensors onnx idx cifar image checkpoint pth)
[ -d "$build/seeds" ] || ./scripts/fuzz-seeds.sh "${CONVNET_CLI:-build/convnet}" "$build/seeds" || exit 1
status=0
for t in "${targets[@]}"; do
  exe="$build/fuzz/fuzz_$t"
  [ -x "$exe" ] || { echo "fuzz: $exe not built (make fuzz builds it)"; exit 1; }
  corpus="$build/corpus/$t"
  mkdir -p "$corpus" "fuzz/regressions/$t"
  before=$(ls "fuzz/regressions/$t" | wc -l)
  log="$build/fuzz-$t.log"
  # ASan: no leak checking (a loader that throws may leave a cache entry: not a hostile-file
  # bug), allocations over the limit reported instead of attempted.
  # One OpenMP thread: the fuzzer runs one input at a time, and CI may run two targets at once.
  OMP_NUM_THREADS=1 ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1 \
    "$exe" -max_total_time="$secs" -timeout=5 -rss_limit_mb=2560 -malloc_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="fuzz/regressions/$t/" "$corpus" "$build/seeds/$t" "fuzz/regressions/$t" >"$log" 2>&1
  rc=$?
  after=$(ls "fuzz/regressions/$t" | wc -l)
  stats=$(grep -E '^stat::number_of_executed_units|^#[0-9]+.*(DONE|cov)' "$log" | tail -2 | tr '\n' ' ')
  echo "fuzz $t: ${secs}s, $stats"
  if [ "$rc" -ne 0 ] || [ "$after" -gt "$before" ]; then
    echo "fuzz $t: FAILED (exit $rc); new input(s) in fuzz/regressions/$t/; the log: $log"
    grep -E 'ERROR|SUMMARY|runtime error|deadly|timeout|out-of-memory' "$log" | head -5
    status=1
  fi
done
exit $status
