#!/usr/bin/env bash
# Baseline for issue 6: facebookresearch/dlrm (dlrm_s_pytorch.py) on the CPU, Kaggle
# configuration, with Debian's python3-torch (OpenBLAS), 1 and 2 threads. Prints training
# samples/s and the test ROC AUC per thread count, to compare with `ttrec train`.
#
# Usage:
#   bench/dlrm_reference.sh --dlrm <dlrm checkout> --data <Kaggle-format train.txt TSV> [options]
#   DLRM_DIR=... DLRM_DATA=... bench/dlrm_reference.sh
# Options:
#   --threads "1 2"     thread counts to run (default "1 2")
#   --batch 128         --mini-batch-size (default 128, dlrm's Kaggle setting)
#   --print-freq N      iterations per timing line (default 1024)
#   --test-freq N       iterations between test passes (default: only at the end of the epoch)
#   --python python3    interpreter (default python3, which must import torch, numpy, sklearn)
#   --out DIR           where logs go (default bench/out/dlrm-reference-<timestamp>)
#
# Requirements: apt-get install python3-torch python3-numpy python3-sklearn (Debian's torch
# build uses OpenBLAS); a checkout of https://github.com/facebookresearch/dlrm.
# dlrm preprocesses the TSV on its first run (it writes kaggleAdDisplayChallenge_processed.npz
# and day files next to it; later runs reuse them). dlrm splits the rows into 7 "days": 6 for
# training, the 7th halved into test and validation, so a 2M-row TSV trains on ~1.7M rows.
#
# NOT RUN in the environment this was written in (no dlrm checkout there): the flags follow
# dlrm's argparse options, and the parsing follows its print format
#   "Finished training it J/N of epoch K, T ms/it, loss L, accuracy A %" (needs --print-time)
#   "Testing at - J/N of epoch K, ... auc X, ..."                          (needs --mlperf-logging)
# Check the first run's log if a number comes out empty.
set -euo pipefail

DLRM="${DLRM_DIR:-}"
DATA="${DLRM_DATA:-}"
THREADS="1 2"
BATCH=128
PRINT_FREQ=1024
TEST_FREQ=""
PY=python3
OUT=""
while [ $# -gt 0 ]; do
  case "$1" in
    --dlrm) DLRM="$2"; shift 2;;
    --data) DATA="$2"; shift 2;;
    --threads) THREADS="$2"; shift 2;;
    --batch) BATCH="$2"; shift 2;;
    --print-freq) PRINT_FREQ="$2"; shift 2;;
    --test-freq) TEST_FREQ="$2"; shift 2;;
    --python) PY="$2"; shift 2;;
    --out) OUT="$2"; shift 2;;
    -h|--help) sed -n '2,30p' "$0"; exit 0;;
    *) echo "dlrm_reference.sh: unknown option $1 (see --help)" >&2; exit 2;;
  esac
done

die() { echo "dlrm_reference.sh: $*" >&2; exit 1; }
[ -n "$DLRM" ] || die "point --dlrm (or DLRM_DIR) at a facebookresearch/dlrm checkout"
[ -f "$DLRM/dlrm_s_pytorch.py" ] || die "$DLRM/dlrm_s_pytorch.py not found"
[ -n "$DATA" ] || die "point --data (or DLRM_DATA) at a Kaggle-format TSV (label, 13 ints, 26 hex)"
[ -f "$DATA" ] || die "data file $DATA not found"
"$PY" -c 'import torch, numpy, sklearn' 2>/dev/null \
  || die "$PY cannot import torch, numpy and sklearn (apt-get install python3-torch python3-numpy python3-sklearn)"

DATA="$(cd "$(dirname "$DATA")" && pwd)/$(basename "$DATA")"
PROCESSED="$(dirname "$DATA")/kaggleAdDisplayChallenge_processed.npz"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${OUT:-$ROOT/bench/out/dlrm-reference-$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$OUT"

echo "torch $("$PY" -c 'import torch; print(torch.__version__)'), BLAS: $("$PY" -c 'import torch; print("openblas" if "openblas" in torch.__config__.show().lower() else "see torch.__config__.show()")')"
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo "dlrm: $DLRM ($(git -C "$DLRM" rev-parse --short HEAD 2>/dev/null || echo 'not a git checkout'))"
echo "data: $DATA ($(wc -l < "$DATA") rows)"
echo "logs: $OUT"

for t in $THREADS; do
  log="$OUT/threads-$t.log"
  args=(--arch-sparse-feature-size=16 --arch-mlp-bot=13-512-256-64-16 --arch-mlp-top=512-256-1
        --data-generation=dataset --data-set=kaggle --raw-data-file="$DATA" --processed-data-file="$PROCESSED"
        --loss-function=bce --round-targets=True --learning-rate=0.1 --mini-batch-size="$BATCH"
        --test-mini-batch-size=16384 --print-freq="$PRINT_FREQ" --print-time --nepochs=1 --mlperf-logging)
  [ -n "$TEST_FREQ" ] && args+=(--test-freq="$TEST_FREQ")
  pin=()
  if command -v taskset >/dev/null 2>&1 && [ "$(nproc)" -ge "$t" ]; then
    pin=(taskset -c "0-$((t - 1))")
  fi
  echo "== $t thread(s): ${pin[*]:-} $PY dlrm_s_pytorch.py ${args[*]}"
  (cd "$DLRM" && OMP_NUM_THREADS=$t OPENBLAS_NUM_THREADS=$t MKL_NUM_THREADS=$t \
      "${pin[@]}" "$PY" dlrm_s_pytorch.py "${args[@]}") 2>&1 | tee "$log" | grep -E 'Finished training|Testing at' || true
  # samples/s: mean ms/it over the timing lines after the first (which includes warm-up)
  sps=$(grep -oE 'Finished training it [0-9]+/[0-9]+ of epoch [0-9]+, [0-9.]+ ms/it' "$log" \
        | awk -v b="$BATCH" '{ms=$(NF-1); n++; if (n > 1) {s += ms; c++}} END {if (c == 0 && n > 0) {c = 1; s = ms}; if (c) printf "%.0f", b * 1000 / (s / c)}')
  auc=$(grep -oE 'auc [0-9.]+' "$log" | tail -n1 | awk '{print $2}')
  acc=$(grep -oE 'Testing at .*accuracy [0-9.]+ %' "$log" | tail -n1 | grep -oE 'accuracy [0-9.]+' | awk '{print $2}')
  echo "RESULT threads=$t samples_per_s=${sps:-?} test_auc=${auc:-?} test_accuracy_pct=${acc:-?} log=$log"
done
