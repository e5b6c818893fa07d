#!/usr/bin/env bash
# Regenerates the embedded policy's warm start from scratch with `cir pretrain` commands only
# (docs/model.md, "The warm start"). Each link continues the previous one (weights and AdamW moments)
# and records its command line and every setting in its config.json, nested under `continued_from`.
#
#   scripts/warm-start-chain.sh [WORK_DIR] [--threads 1|2]
#
# WORK_DIR (default runs/warm-start-chain) receives link-1 … link-3; a link that finished before
# (its config.json says "trained_by": "cir pretrain") is kept, so an interrupted chain resumes at the
# link it stopped in. The last link is the checkpoint; copy its config.json and model.safetensors
# into assets/checkpoints/warm-start to commit it.
set -euo pipefail
cd "$(dirname "$0")/.."

work="runs/warm-start-chain"
threads=2
while [ $# -gt 0 ]; do
  case "$1" in
    --threads) threads="${2:?--threads needs 1 or 2}"; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "warm-start-chain: unknown option $1" >&2; exit 2 ;;
    *) work="$1"; shift ;;
  esac
done
mkdir -p "$work"

finished() {
  node -e 'const c=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")); process.exit(c.cir && c.cir.trained_by === "cir pretrain" ? 0 : 1)' "$1/config.json" 2>/dev/null
}

link() {
  local out="$1"; shift
  if finished "$out"; then echo "warm-start-chain: $out already done, kept"; return; fi
  echo "warm-start-chain: $out ($(date -u +%H:%M:%S) UTC)"
  ./cir pretrain --out "$out" --threads "$threads" "$@"
}

# 1. Copy drills (random digit strings repeated) form the copying heads, then traces.
link "$work/link-1" --copy-steps 250 --steps 600 --batch 32 --lr 3e-3 --seed 1
# 2. More traces at a lower rate.
link "$work/link-2" --init "$work/link-1" --copy-steps 0 --steps 450 --batch 32 --lr 2e-3 --seed 2
# 3. Copy focus: 16 of each step's 32 sequences are code traces whose copied digits carry half the loss.
link "$work/link-3" --init "$work/link-2" --copy-steps 0 --steps 1500 --copy-focus 16 --batch 32 --lr 1e-3 --seed 3 --save-every 250

./cir pretrain --eval-only --out "$work/link-3" --probe 200 --eval 200 --threads "$threads" --json
