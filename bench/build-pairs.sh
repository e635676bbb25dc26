#!/usr/bin/env bash
# Paired A/B of two builds' training step, in alternating JVMs:
#   bench/build-pairs.sh OLD.jar NEW.jar BATCH THREADS PAIRS
# OLD.jar and NEW.jar are jmh/target/benchmarks.jar of the two builds. Each pair runs one JVM of
# each build's TrainHarness (kinds dense, tt and tt-cache, 8 windows of 0.8 s, thread CPU time at
# 1 thread, wall time above), old first in odd pairs and new first in even ones; it prints every
# JVM's best window per kind and, per kind, the median over pairs of new/old.
# Why separate JVMs: two builds' training steps loaded side by side in one JVM interfere (one side
# fell to 8% of its speed in some runs), so a build-to-build A/B cannot pair windows in one JVM
# as TtKernelAB does for paths of one build; the price is more noise, so use many pairs.
set -euo pipefail
[ $# -eq 5 ] || { echo "usage: $0 OLD.jar NEW.jar BATCH THREADS PAIRS" >&2; exit 2; }
OLD=$1 NEW=$2 B=$3 T=$4 N=$5
JAVA="$("$(dirname "$0")/../ttrec" --which-java)/bin/java"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for i in $(seq "$N"); do
  if [ $((i % 2)) = 1 ]; then order="old new"; else order="new old"; fi
  for side in $order; do
    jar=$OLD; [ "$side" = new ] && jar=$NEW
    line=$("$JAVA" --add-modules jdk.incubator.vector -Xmx6g -Dthreads="$T" -cp "$jar" org.ttrec.jmh.TrainHarness "$B" 0.8 8 2>/dev/null | grep "^batch")
    echo "$i $side $line" | tee -a "$out"
  done
done
python3 - "$out" <<'PY'
import re, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    p = line.split()
    for kind, rate in re.findall(r'(\S+) (\d+) samples/s', line):
        runs.setdefault((kind, int(p[0])), {})[p[1]] = float(rate)
for kind in sorted({k for k, _ in runs}):
    r = [v['new'] / v['old'] for (k, _), v in runs.items() if k == kind and len(v) == 2]
    print(f"{kind}: new/old median {statistics.median(r):.3f} over {len(r)} pairs (min {min(r):.3f}, max {max(r):.3f})")
PY
