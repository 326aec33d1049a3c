#!/usr/bin/env bash
# convnet against the PyTorch peer (../shared/bench/pytorch_peer.py) on the same machine, in
# the same run, with the same settings: for each model and mode, convnet's bench and then
# the peer's, one after the other; a table of images/s and the ratio convnet / PyTorch,
# and the peak resident memory of both for resnet20 training.
#
#   scripts/bench_vs_pytorch.sh [--threads 2] [--batch 128] [--seconds 5] [--models lenet5,resnet20,vgg11_bn]
#                               [--modes train,infer] [--repeat 1] [--build build]
#
# Model names are the peer's; convnet's zoo names for the same networks: lenet5 -> lenet5,
# resnet20 -> resnet20_b (He et al.'s CIFAR ResNet-20 with 1x1 projection shortcuts),
# vgg11_bn -> vgg11_bn_cifar. With --repeat N each pair runs N times and the medians are
# reported (the machine may be shared: compare ratios, not absolute numbers across runs).
set -euo pipefail
cd "$(dirname "$0")/.."

THREADS=2 BATCH=128 SECONDS_=5 MODELS=lenet5,resnet20,vgg11_bn MODES=train,infer REPEAT=1 BUILD=build
while [ $# -gt 0 ]; do
  case "$1" in
    --threads) THREADS=$2; shift 2 ;;
    --batch) BATCH=$2; shift 2 ;;
    --seconds) SECONDS_=$2; shift 2 ;;
    --models) MODELS=$2; shift 2 ;;
    --modes) MODES=$2; shift 2 ;;
    --repeat) REPEAT=$2; shift 2 ;;
    --build) BUILD=$2; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "bench_vs_pytorch: unknown argument $1" >&2; exit 2 ;;
  esac
done

CONVNET="$BUILD/convnet"
PEER="${PEER:-../shared/bench/pytorch_peer.py}"
PYTHON="${PYTHON:-/usr/bin/python3}"
[ -x "$CONVNET" ] || { echo "bench_vs_pytorch: $CONVNET not found; build first (make build)" >&2; exit 1; }
[ -f "$PEER" ] || { echo "bench_vs_pytorch: $PEER not found" >&2; exit 1; }

ours() {
  case "$1" in
    resnet20) echo resnet20_b ;;
    vgg11_bn) echo vgg11_bn_cifar ;;
    *) echo "$1" ;;
  esac
}
# A JSON field of one line ("images_per_s", "peak_rss_mb").
field() { sed -n "s/.*\"$1\": \([0-9.]*\).*/\1/p" | head -n1; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

# The peer's peak RSS: its own getrusage, from a wrapper that runs the peer's main().
peer_with_rss() {
  "$PYTHON" - "$PEER" "$@" <<'PY'
import resource, runpy, sys
peer = sys.argv[1]
sys.argv = [peer] + sys.argv[2:]
try:
    runpy.run_path(peer, run_name='__main__')
finally:
    print('{"peak_rss_mb": %.1f}' % (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0), flush=True)
PY
}

rows=()
rss_line=""
IFS=, read -ra model_list <<< "$MODELS"
IFS=, read -ra mode_list <<< "$MODES"
for m in "${model_list[@]}"; do
  for mode in "${mode_list[@]}"; do
    ours_ips=() peer_ips=() ours_rss=() peer_rss=()
    for _ in $(seq "$REPEAT"); do
      out=$("$CONVNET" bench --model "$(ours "$m")" --batch "$BATCH" --threads "$THREADS" --mode "$mode" \
            --seconds "$SECONDS_")
      echo "$out" >&2
      ours_ips+=("$(echo "$out" | field images_per_s)")
      ours_rss+=("$(echo "$out" | field peak_rss_mb)")
      pout=$(peer_with_rss --threads "$THREADS" --batch "$BATCH" --models "$m" --modes "$mode" --seconds "$SECONDS_")
      echo "$pout" >&2
      peer_ips+=("$(echo "$pout" | grep images_per_s | field images_per_s)")
      peer_rss+=("$(echo "$pout" | grep '^{"peak_rss_mb"' | field peak_rss_mb)")
    done
    a=$(median "${ours_ips[@]}") b=$(median "${peer_ips[@]}")
    rows+=("$(printf '%-10s %-6s %12.1f %12.1f %7.2fx' "$m" "$mode" "$a" "$b" "$(awk -v a="$a" -v b="$b" 'BEGIN {print (b > 0) ? a / b : 0}')")")
    if [ "$m" = resnet20 ] && [ "$mode" = train ]; then
      rss_line=$(printf 'peak RSS, resnet20 train: convnet %.1f MB, pytorch %.1f MB' \
                 "$(median "${ours_rss[@]}")" "$(median "${peer_rss[@]}")")
    fi
  done
done

echo
printf '%-10s %-6s %12s %12s %8s\n' model mode "convnet/s" "pytorch/s" ratio
printf '%s\n' "${rows[@]}"
[ -n "$rss_line" ] && echo "$rss_line"
echo "(threads $THREADS, batch $BATCH, ${SECONDS_} s per run, $REPEAT run(s) each, median)"
