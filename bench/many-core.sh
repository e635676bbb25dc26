#!/usr/bin/env bash
# Issue 17's measurements on a many-core host that has no Java or Maven (the GPU machine's
# 16-core CPU side), in one call that builds nothing, with the PyTorch baselines in the same call:
#   ttrec-gpu/many-core.sh [THREADS]        (THREADS: comma-separated, default "1,<all cores>")
# Expects the folder engine-tornado/gpu/pack.sh makes (ttrec-gpu/ with lib/, this script,
# tt_pytorch.py and, when it was built, the JMH jar benchmarks.jar) and a JDK 25 runtime in jre/
# beside it (or JAVA_HOME). Runs, on the cpu backend:
#   - PeakBenchmark (one core's FMA ceiling) when benchmarks.jar is there;
#   - `ttrec bench` at each thread count: SGEMM 1024, TT fwd+bwd+SGD at 2,048 and 65,536 lookups
#     (p = (200, 220, 250), q = (2, 2, 4), R = 32), the Kaggle-shaped training step at batch 128
#     and 2048 (bench.json / bench.txt / bench.png);
#   - when python3 has torch: torch.mm 1024 and bench/tt_pytorch.py's gather+bmm TT (2,048 and
#     65,536 lookups) at the same thread counts (MKL on the GPU machine's PyTorch).
# Everything goes to $OUT (the device tool's output folder), else ./many-core-out; a summary is
# printed. About 5 minutes at 1 and 16 threads; TTREC_BENCH_SECONDS (2) sets seconds per cell,
# PYTHON (python3) the interpreter with torch.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
java="${JAVA_HOME:-$root/jre}/bin/java"
out="${OUT:-$PWD/many-core-out}"
mkdir -p "$out"
all=$(nproc)
threads="${1:-1,$all}"
secs="${TTREC_BENCH_SECONDS:-2}"
flags=(--add-modules jdk.incubator.vector -Xmx"${TTREC_HEAP_GB:-24}"g)
py="${PYTHON:-python3}"
status=0

echo "== host: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)" | tee "$out/host.txt"
lscpu >> "$out/host.txt" 2>&1

if [ -f "$here/benchmarks.jar" ]; then
  echo "== PeakBenchmark (1 core)"
  timeout 120 "$java" "${flags[@]}" -jar "$here/benchmarks.jar" PeakBenchmark -f 1 -wi 2 -i 3 -w 1s -r 1s \
      -rf json -rff "$out/peak.json" > "$out/peak.txt" 2>&1 || status=1
  grep -E "^PeakBenchmark" "$out/peak.txt"
else
  echo "== PeakBenchmark skipped: no benchmarks.jar beside this script (build jmh before pack.sh)"
fi

echo "== ttrec bench, cpu backend, threads $threads"
timeout 420 "$java" "${flags[@]}" -cp "$here/lib/*" org.ttrec.dlrm.cli.Main bench --backends cpu \
    --threads "$threads" --workloads sgemm,tt2k,tt64k,train128,train2048 --seconds "$secs" --windows 3 \
    --out "$out/bench" > "$out/bench-run.txt" 2>&1 || status=1
cat "$out/bench/bench.txt" 2>/dev/null || tail -20 "$out/bench-run.txt"

if "$py" -c "import torch" 2>/dev/null; then
  echo "== PyTorch baselines (same host, same thread counts)"
  # one process per thread count, with the BLAS's own thread variables set too: OpenBLAS ignores
  # torch.set_num_threads (it ran 2 threads for "1" on the 2-core VM)
  for t in ${threads//,/ }; do
    tenv=(env OMP_NUM_THREADS="$t" MKL_NUM_THREADS="$t" OPENBLAS_NUM_THREADS="$t")
    "${tenv[@]}" "$py" - "$t" >> "$out/torch-mm.txt" 2>&1 <<'PY' || status=1
import sys, time, torch
t = int(sys.argv[1])
torch.set_num_threads(t)
a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
best = 0.0
for _ in range(5):
    s = time.perf_counter()
    for _ in range(20):
        torch.mm(a, b)
    best = max(best, 20 * 2 * 1024 ** 3 / (time.perf_counter() - s) / 1e9)
print(f"torch {torch.__version__} ({'MKL' if torch.backends.mkl.is_available() else 'no MKL'}): "
      f"torch.mm 1024, {t} threads: {best:.1f} GFLOP/s")
PY
    for bags in 2048 65536; do
      timeout 300 "${tenv[@]}" "$py" "$here/tt_pytorch.py" --configs 16:2x2x4:32 --lookups 1 --threads "$t" \
          --bags "$bags" --seconds "$secs" > "$out/tt-pytorch-$bags-$t.txt" 2>&1 || status=1
    done
  done
  cat "$out/torch-mm.txt"
  for f in "$out"/tt-pytorch-*.txt; do
    grep -E "^ +16:2x2x4:32" "$f" | sed "s/^/$(basename "$f" .txt): /"
  done
else
  echo "== PyTorch baselines skipped: $py has no torch (set PYTHON)"
fi
exit $status
