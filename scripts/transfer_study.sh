#!/usr/bin/env bash
# Transfer-learning study (README "Transfer learning"): LeNet-5 pretrained on Fashion-MNIST
# classes 0-4 (T-shirt, Trouser, Pullover, Dress, Coat), then adapted to classes 5-9
# (Sandal, Shirt, Sneaker, Bag, Ankle boot) from only 100 training images per class
# (a seeded choice), four ways with the same recipe:
#   scratch  train a fresh LeNet-5 on the 500 images
#   head     fine-tune: new classifier head, everything else frozen
#   top3     fine-tune the last 3 parameterized layers (the three Linear layers)
#   all      fine-tune every layer, starting from the pretrained weights
# Each is tested on all 5000 test images of classes 5-9. Prints a Markdown table and
# writes it to OUT/results.md; with --update-docs also to docs/transfer_study.md, which is
# the table README.md shows (between its transfer-study markers; a test keeps the two equal).
#
#   scripts/transfer_study.sh [--build build] [--out runs/transfer-study] [--seeds "0 1 2"] [--threads 2]
#                             [--pretrain-epochs 5] [--epochs 30] [--update-docs]
set -euo pipefail

BUILD=build
OUT=runs/transfer-study
SEEDS="0 1 2"
THREADS=2
PRETRAIN_EPOCHS=5
EPOCHS=30
UPDATE_DOCS=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) BUILD=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --seeds) SEEDS=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --pretrain-epochs) PRETRAIN_EPOCHS=$2; shift 2 ;;
    --epochs) EPOCHS=$2; shift 2 ;;
    --update-docs) UPDATE_DOCS=1; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
CLI="$BUILD/convnet"
[[ -x "$CLI" ]] || { echo "build the CLI first: cmake --build $BUILD --target convnet" >&2; exit 1; }
mkdir -p "$OUT"

acc() { sed -n 's/^final test accuracy: \([0-9.]*\)%.*/\1/p' "$1"; }

start=$(date +%s)
echo "== pretraining LeNet-5 on classes 0-4 (30000 images, $PRETRAIN_EPOCHS epochs)"
"$CLI" train --model lenet5 --classes 0,1,2,3,4 --epochs "$PRETRAIN_EPOCHS" --seed 0 --threads "$THREADS" \
  --out "$OUT/pretrain" > "$OUT/pretrain.log" 2>&1
echo "pretrained: test accuracy on classes 0-4: $(acc "$OUT/pretrain.log")%"

# The same recipe for all four: 500 images, batch 32, SGD + one-cycle, 30 epochs.
TARGET=(--classes 5,6,7,8,9 --per-class 100 --batch-size 32 --epochs "$EPOCHS" --lr 0.02 --threads "$THREADS")
declare -A result
for seed in $SEEDS; do
  for variant in scratch head top3 all; do
    log="$OUT/$variant-seed$seed.log"
    case $variant in
      scratch) "$CLI" train --model lenet5 "${TARGET[@]}" --seed "$seed" --out "$OUT/$variant-seed$seed" > "$log" 2>&1 ;;
      head) "$CLI" finetune --checkpoint "$OUT/pretrain" "${TARGET[@]}" --seed "$seed" --out "$OUT/$variant-seed$seed" > "$log" 2>&1 ;;
      top3) "$CLI" finetune --checkpoint "$OUT/pretrain" --train-last 3 "${TARGET[@]}" --seed "$seed" \
              --out "$OUT/$variant-seed$seed" > "$log" 2>&1 ;;
      all) "$CLI" finetune --checkpoint "$OUT/pretrain" --train-all "${TARGET[@]}" --seed "$seed" \
              --out "$OUT/$variant-seed$seed" > "$log" 2>&1 ;;
    esac
    result[$variant,$seed]=$(acc "$log")
    echo "$variant seed $seed: ${result[$variant,$seed]}%"
  done
done

{
  echo "| method (500 images of classes 5-9) | trainable parameters | test accuracy, seeds $SEEDS | mean |"
  echo "| --- | --- | --- | --- |"
  for variant in scratch head top3 all; do
    case $variant in
      scratch) name="from scratch" ;;
      head) name="fine-tune the head (frozen body)" ;;
      top3) name="fine-tune the top 3 layers (--train-last 3)" ;;
      all) name="fine-tune all layers (--train-all)" ;;
    esac
    first="$OUT/all-seed${SEEDS%% *}.log"
    if [[ $variant != scratch ]]; then
      params=$(sed -n 's/^parameters: .* total, \([0-9,]*\) trainable.*/\1/p' "$OUT/$variant-seed${SEEDS%% *}.log")
    else  # the same LeNet-5, all of it trained
      params="$(sed -n 's/^parameters: \([0-9,]*\) total.*/\1/p' "$first") (all)"
    fi
    accs=""; sum=0; n=0
    for seed in $SEEDS; do
      accs+="${accs:+, }${result[$variant,$seed]}%"
      sum=$(awk -v a="$sum" -v b="${result[$variant,$seed]}" 'BEGIN{print a+b}'); n=$((n + 1))
    done
    echo "| $name | $params | $accs | $(awk -v s="$sum" -v n="$n" 'BEGIN{printf "%.2f%%", s/n}') |"
  done
  echo
  echo "The pretrained LeNet-5 reaches $(acc "$OUT/pretrain.log")% on the test images of classes 0-4."
} | tee "$OUT/results.md"
echo "($(( $(date +%s) - start )) s; logs and checkpoints in $OUT)"
if [[ $UPDATE_DOCS == 1 ]]; then
  here=$(cd "$(dirname "$0")/.." && pwd)
  cp "$OUT/results.md" "$here/docs/transfer_study.md"
  # README.md shows the same table between its markers.
  python3 - "$here/README.md" "$OUT/results.md" <<'PY'
import sys
readme, table = sys.argv[1], open(sys.argv[2]).read()
s = open(readme).read()
b, e = '<!-- transfer-study results: begin -->\n', '<!-- transfer-study results: end -->'
i, j = s.index(b) + len(b), s.index(e)
open(readme, 'w').write(s[:i] + table + s[j:])
PY
  echo "updated docs/transfer_study.md and the table in README.md"
fi
