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
#   --metric both       speed: one run per thread count without --mlperf-logging (samples/s
#                       of the training step alone: dlrm's ms/it excludes data loading there);
#                       auc: one run with --mlperf-logging (test AUC; its ms/it is the whole
#                       iteration, data loading included); both (default): the two runs
#   --batch 128         --mini-batch-size (default 128, dlrm's Kaggle setting)
#   --print-freq N      iterations per timing line (default 1024)
#   --num-batches N     stop after N training batches (smoke tests; default: the whole epoch)
#   --cache DIR         where dlrm's preprocessed files go (default: dlrm-<tsv name> next to
#                       the TSV); made once per TSV, reused by later runs
#   --cpus LIST         taskset CPU list for every run (default: cores 0..t-1 for t threads)
#   --blas-threads N    OPENBLAS_NUM_THREADS/MKL_NUM_THREADS (default: the run's thread count;
#                       PyTorch parallelises the ops itself with OpenMP, and OpenBLAS's own
#                       pthreads on top can oversubscribe the cores: try 1)
#   --nice N            run dlrm (and its preprocessing) under nice -n N (default: no nice)
#   --seed N            dlrm's --numpy-rand-seed: initialisation and the shuffle of the training
#                       rows (default 123, dlrm's own default)
#   --python python3    interpreter (default python3, which must import torch, numpy, sklearn)
#   --out DIR           where logs go (default bench/out/dlrm-reference-<timestamp>)
#
# Requirements: apt-get install python3-torch python3-numpy python3-sklearn python3-tqdm
# (Debian's torch build uses OpenBLAS once bench/use-openblas.sh has selected it); a checkout
# of https://github.com/facebookresearch/dlrm (tested at commit 181c5ff7, see
# /work/dlrm-src/COMMIT.txt where it was assembled). dlrm_s_pytorch.py imports tensorboard
# (via torch.utils.tensorboard) and needs mlperf_logging for --mlperf-logging, neither of which
# Debian ships: when they are missing, a small launcher this script writes into the log folder
# stands in no-op versions (dlrm only logs scalars to them) and runs dlrm_s_pytorch.py unchanged.
#
# Data: dlrm splits the rows into 7 "days" in file order (the first N mod 7 get one extra row):
# days 0-5 train, day 6 halved into test (first half, the one reported) and validation, so a
# 2M-row TSV trains on ~1.71M rows and tests on ~143k. `ttrec train --preset kaggle` splits a
# TSV the same way. Training rows are shuffled (dlrm --data-randomize=total, seed 123).
# Preprocessing (hex strings to dense ids, the day files, kaggleAdDisplayChallenge_processed.npz)
# runs once per TSV before the timed runs, via dlrm's own data_utils.py; it is single-threaded
# Python (about 15 s per 100k rows on this machine's cores).
#
# Output per thread count:
#   RESULT threads=T seed=N samples_per_s=S test_auc=A test_accuracy_pct=P samples_per_s_wall=W log=...
# samples_per_s is from the speed run (mean of dlrm's ms/it over the timing lines after the
# first, weighted by their iteration counts; the first line holds the warm-up), samples_per_s_wall
# the same from the AUC run. A field is ? when its run was not made or its line was not found.
set -euo pipefail

DLRM="${DLRM_DIR:-}"
DATA="${DLRM_DATA:-}"
THREADS="1 2"
METRIC=both
BATCH=128
PRINT_FREQ=1024
NUM_BATCHES=0
CACHE=""
CPUS=""
NICE=""
BLAS_THREADS=""
PY=python3
SEED=123
OUT=""
while [ $# -gt 0 ]; do
  case "$1" in
    --dlrm) DLRM="$2"; shift 2;;
    --data) DATA="$2"; shift 2;;
    --threads) THREADS="$2"; shift 2;;
    --metric) METRIC="$2"; shift 2;;
    --batch) BATCH="$2"; shift 2;;
    --print-freq) PRINT_FREQ="$2"; shift 2;;
    --num-batches) NUM_BATCHES="$2"; shift 2;;
    --cache) CACHE="$2"; shift 2;;
    --cpus) CPUS="$2"; shift 2;;
    --nice) NICE="$2"; shift 2;;
    --blas-threads) BLAS_THREADS="$2"; shift 2;;
    --python) PY="$2"; shift 2;;
    --seed) SEED="$2"; shift 2;;
    --out) OUT="$2"; shift 2;;
    -h|--help) sed -n '2,47p' "$0"; exit 0;;
    *) echo "dlrm_reference.sh: unknown option $1 (see --help)" >&2; exit 2;;
  esac
done

die() { echo "dlrm_reference.sh: $*" >&2; exit 1; }
[ -n "$DLRM" ] || die "point --dlrm (or DLRM_DIR) at a facebookresearch/dlrm checkout"
[ -f "$DLRM/dlrm_s_pytorch.py" ] || die "$DLRM/dlrm_s_pytorch.py not found"
[ -f "$DLRM/data_utils.py" ] || die "$DLRM/data_utils.py not found (incomplete dlrm checkout)"
[ -n "$DATA" ] || die "point --data (or DLRM_DATA) at a Kaggle-format TSV (label, 13 ints, 26 hex)"
[ -f "$DATA" ] || die "data file $DATA not found"
case "$METRIC" in speed|auc|both) ;; *) die "--metric must be speed, auc or both, not '$METRIC'";; esac
[[ "$BATCH" =~ ^[1-9][0-9]*$ ]] || die "--batch must be a positive integer, not '$BATCH'"
[[ "$PRINT_FREQ" =~ ^[1-9][0-9]*$ ]] || die "--print-freq must be a positive integer, not '$PRINT_FREQ'"
[[ "$NUM_BATCHES" =~ ^[0-9]+$ ]] || die "--num-batches must be a non-negative integer, not '$NUM_BATCHES'"
for t in $THREADS; do [[ "$t" =~ ^[1-9][0-9]*$ ]] || die "--threads holds '$t', not a positive integer"; done
[ -z "$NICE" ] || [[ "$NICE" =~ ^-?[0-9]+$ ]] || die "--nice must be an integer, not '$NICE'"
[[ "$SEED" =~ ^[0-9]+$ ]] || die "--seed must be a non-negative integer, not '$SEED'"
[ -z "$BLAS_THREADS" ] || [[ "$BLAS_THREADS" =~ ^[1-9][0-9]*$ ]] || die "--blas-threads must be a positive integer, not '$BLAS_THREADS'"
"$PY" -c 'import torch, numpy, sklearn, tqdm' 2>/dev/null \
  || die "$PY cannot import torch, numpy, sklearn and tqdm (apt-get install python3-torch python3-numpy python3-sklearn python3-tqdm)"

DLRM="$(cd "$DLRM" && pwd)"
DATA="$(cd "$(dirname "$DATA")" && pwd)/$(basename "$DATA")"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${OUT:-$ROOT/bench/out/dlrm-reference-$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"

# dlrm derives every preprocessed file name from the TSV's folder and its name up to the first
# dot, and always calls the concatenated file kaggleAdDisplayChallenge_processed.npz: two TSVs
# in one folder would share (and silently reuse) it. So each TSV gets its own cache folder with
# a link to it, and a stamp that notices when the TSV was rewritten.
base="$(basename "$DATA")"
stem="${base%%.*}"
[ -n "$stem" ] || die "data file name '$base' has nothing before its first dot"
CACHE="${CACHE:-$(dirname "$DATA")/dlrm-$stem}"
mkdir -p "$CACHE"
CACHE="$(cd "$CACHE" && pwd)"
RAW="$CACHE/$stem.tsv"
PROCESSED="$CACHE/kaggleAdDisplayChallenge_processed.npz"
STAMP="$CACHE/source.stamp"
stamp_now="$DATA $(stat -c '%s %Y' "$DATA")"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" != "$stamp_now" ]; then
  die "cache $CACHE was made from another version of the TSV ($(cat "$STAMP")); delete it to redo dlrm's preprocessing"
fi
[ -e "$RAW" ] || ln -s "$DATA" "$RAW"

nice_cmd=()
[ -n "$NICE" ] && nice_cmd=(nice -n "$NICE")

# Stand-ins for the optional packages dlrm imports but Debian lacks (real ones win when present).
LAUNCHER="$OUT/dlrm_launch.py"
cat > "$LAUNCHER" <<'PYEOF'
"""Run dlrm_s_pytorch.py unchanged; stand in for tensorboard and mlperf_logging if missing.

dlrm imports torch.utils.tensorboard.SummaryWriter unconditionally (it only logs scalars to it)
and its mlperf_logger.py needs the mlperf_logging package for --mlperf-logging, the flag that
makes it compute the test AUC. Neither is packaged in Debian; the stand-ins here do nothing.
"""
import os
import runpy
import sys
import types

script = os.path.abspath(sys.argv[1])
sys.argv = [script] + sys.argv[2:]
sys.path.insert(0, os.path.dirname(script))

try:
    import torch.utils.tensorboard  # noqa: F401
except ImportError:
    class SummaryWriter:
        def __init__(self, *args, **kwargs):
            pass

        def __getattr__(self, name):
            return lambda *args, **kwargs: None

    tb = types.ModuleType("torch.utils.tensorboard")
    tb.SummaryWriter = SummaryWriter
    sys.modules["torch.utils.tensorboard"] = tb

try:
    import mlperf_logging.mllog  # noqa: F401
except ImportError:
    class _MlLogger:
        logger = types.SimpleNamespace(propagate=False)

        def start(self, *args, **kwargs):
            pass

        end = event = start

    constants = types.ModuleType("mlperf_logging.mllog.constants")
    constants.__getattr__ = lambda name: name.lower()  # any constant name is a valid key
    mllog = types.ModuleType("mlperf_logging.mllog")
    mllog.constants = constants
    the_logger = _MlLogger()
    mllog.get_mllogger = lambda: the_logger
    mllog.config = lambda **kwargs: None
    pkg = types.ModuleType("mlperf_logging")
    pkg.mllog = mllog
    sys.modules.update({"mlperf_logging": pkg, "mlperf_logging.mllog": mllog,
                        "mlperf_logging.mllog.constants": constants})

runpy.run_path(script, run_name="__main__")
PYEOF

blas=$("$PY" - <<'PYEOF'
import torch
torch.ones(64, 64) @ torch.ones(64, 64)
libs = sorted({l.split()[-1] for l in open("/proc/self/maps") if len(l.split()) >= 6
               and any(k in l.split()[-1] for k in ("blas", "lapack", "mkl"))})
print(torch.__version__, ", ".join(libs) or "no BLAS library mapped")
PYEOF
)
echo "torch and BLAS: $blas"
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cores"
echo "dlrm: $DLRM ($(git -C "$DLRM" rev-parse --short HEAD 2>/dev/null || awk 'NR == 1 {print $1}' "$DLRM/COMMIT.txt" 2>/dev/null || echo 'commit unknown'))"
echo "data: $DATA ($(wc -l < "$DATA") rows), dlrm cache: $CACHE"
echo "logs: $OUT"

# Preprocess once, outside the timed runs. data_utils.py prints a progress line per row
# (ending in \r); those are dropped from the log.
if [ ! -f "$PROCESSED" ]; then
  echo "== preprocessing $DATA with dlrm's data_utils.py (once per TSV)"
  t0=$(date +%s.%N)
  prep_pin=()
  [ -n "$CPUS" ] && prep_pin=(taskset -c "$CPUS")
  (cd "$DLRM" && "${nice_cmd[@]}" "${prep_pin[@]}" "$PY" data_utils.py --data-set=kaggle \
      --raw-data-file="$RAW" --processed-data-file="$PROCESSED") 2>&1 \
    | tr '\r' '\n' | grep -v '^Load ' > "$OUT/preprocess.log" \
    || die "preprocessing failed, see $OUT/preprocess.log"
  [ -f "$PROCESSED" ] || die "preprocessing wrote no $PROCESSED, see $OUT/preprocess.log"
  echo "$stamp_now" > "$STAMP"
  t1=$(date +%s.%N)
  echo "preprocessing took $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.0f", b - a}') s"
else
  echo "== reusing dlrm's preprocessed data in $CACHE"
  [ -f "$STAMP" ] || echo "$stamp_now" > "$STAMP"
fi

# samples/s from "Finished training it J/N of epoch K, T ms/it, loss L" lines: weighted by the
# iterations each line covers, the first line (warm-up) left out unless it is the only one.
samples_per_s() {
  grep -oE 'Finished training it [0-9]+/[0-9]+ of epoch [0-9]+, [0-9.]+ ms/it' "$1" \
    | sed -E 's/Finished training it ([0-9]+)\/[0-9]+ of epoch ([0-9]+), ([0-9.]+) ms\/it/\2 \1 \3/' \
    | awk -v b="$BATCH" '
        { if ($1 != ep) { prev = 0; ep = $1 }; its = $2 - prev; prev = $2; n++
          if (n == 1) { its1 = its; ms1 = $3 } else { it += its; ms += its * $3 } }
        END { if (n == 1) { it = its1; ms = its1 * ms1 }
              if (it > 0 && ms > 0) printf "%.0f", b * 1000 * it / ms }'
}

run_dlrm() {  # threads, log, extra dlrm flags...
  local t="$1" log="$2"; shift 2
  local args=(--arch-sparse-feature-size=16 --arch-mlp-bot=13-512-256-64-16 --arch-mlp-top=512-256-1
        --data-generation=dataset --data-set=kaggle --raw-data-file="$RAW" --processed-data-file="$PROCESSED"
        --loss-function=bce --round-targets=True --learning-rate=0.1 --mini-batch-size="$BATCH"
        --test-mini-batch-size=16384 --print-freq="$PRINT_FREQ" --print-time --nepochs=1
        --test-freq=1000000000 --numpy-rand-seed="$SEED" "$@")
  # --test-freq larger than the epoch: dlrm tests only after the last training batch.
  [ "$NUM_BATCHES" -gt 0 ] && args+=(--num-batches="$NUM_BATCHES")
  local pin=()
  if [ -n "$CPUS" ]; then
    pin=(taskset -c "$CPUS")
  elif command -v taskset >/dev/null 2>&1 && [ "$(nproc)" -ge "$t" ]; then
    pin=(taskset -c "0-$((t - 1))")
  fi
  local bt="${BLAS_THREADS:-$t}"
  echo "== $t thread(s), BLAS threads $bt: ${nice_cmd[*]:-} ${pin[*]:-} $PY dlrm_s_pytorch.py ${args[*]}"
  (cd "$OUT" && OMP_NUM_THREADS=$t OPENBLAS_NUM_THREADS=$bt MKL_NUM_THREADS=$bt \
      "${nice_cmd[@]}" "${pin[@]}" "$PY" "$LAUNCHER" "$DLRM/dlrm_s_pytorch.py" "${args[@]}") \
    > "$log" 2>&1 || { tail -n 20 "$log" >&2; die "dlrm failed ($t threads), see $log"; }
  grep -E 'Finished training|Testing at|accuracy' "$log" | tail -n 4 || true
}

for t in $THREADS; do
  sps="" auc="" acc="" wall="" logs=""
  if [ "$METRIC" != auc ]; then
    log="$OUT/threads-$t-speed.log"; logs="$log"
    run_dlrm "$t" "$log"
    sps=$(samples_per_s "$log")
    acc=$(sed -nE 's/^ accuracy ([0-9.]+) %, best .*/\1/p' "$log" | tail -n1)
  fi
  if [ "$METRIC" != speed ]; then
    log="$OUT/threads-$t-auc.log"; logs="${logs:+$logs,}$log"
    run_dlrm "$t" "$log" --mlperf-logging
    wall=$(samples_per_s "$log")
    auc=$(sed -nE 's/.* auc ([0-9.]+), best auc .*/\1/p' "$log" | tail -n1)
    acc=$(sed -nE 's/.* accuracy ([0-9.]+) %, best accuracy .*/\1/p' "$log" | tail -n1)
  fi
  echo "RESULT threads=$t seed=$SEED samples_per_s=${sps:-?} test_auc=${auc:-?} test_accuracy_pct=${acc:-?} samples_per_s_wall=${wall:-?} log=$logs"
done
