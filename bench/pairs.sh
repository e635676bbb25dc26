#!/usr/bin/env bash
# Alternating ttrec / PyTorch pairs of one TT-EmbeddingBag case (issue 4's headline case by
# default: D16 q=(2,2,4) R32, bags of 1 lookup, 1 thread, forward + backward + SGD).
#
# Each round runs JMH's TtEmbeddingBagBenchmark, then bench/tt_pytorch.py on the same case, and
# prints both figures and their ratio; the end prints the median ratio. Alternating the two
# programs round by round is what makes the ratio mean something on a machine whose speed drifts.
#
# Needs a built jmh/target/benchmarks.jar and a python3 with torch. Environment:
#   JAVA     java 25 to run JMH with (default: .jre/bin/java if present, else java on PATH)
#   PY       python with torch (default: python3)
#   ROUNDS   pairs to run (default 5)
#   CONFIG   D:q1xq2xq3:R (default 16:2x2x4:32); LOOKUPS (1); THREADS (1)
#   JMH_ARGS warm-up/measurement options (default: -wi 5 -i 5 -w 1s -r 1s)
#   PY_ARGS  tt_pytorch.py timing options (default: --seconds 3 --windows 3)
#   OUT_DIR  where the JMH JSON results go (default: bench/out)
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -z "${JAVA:-}" ]]; then
    if [[ -x .jre/bin/java ]]; then JAVA=.jre/bin/java; else JAVA=java; fi
fi
PY=${PY:-python3}
ROUNDS=${ROUNDS:-5}
CONFIG=${CONFIG:-16:2x2x4:32}
LOOKUPS=${LOOKUPS:-1}
THREADS=${THREADS:-1}
JMH_ARGS=${JMH_ARGS:--wi 5 -i 5 -w 1s -r 1s}
PY_ARGS=${PY_ARGS:---seconds 3 --windows 3}
OUT_DIR=${OUT_DIR:-bench/out}
JAR=jmh/target/benchmarks.jar

case "$LOOKUPS" in
    1) BENCH=ttFwdBwdSgd_L1 ;;
    20) BENCH=ttFwdBwdSgd_L20 ;;
    *) echo "pairs.sh: LOOKUPS must be 1 or 20, got '$LOOKUPS'" >&2; exit 2 ;;
esac
[[ -f "$JAR" ]] || { echo "pairs.sh: $JAR is missing; build first (./mvnw -o package -DskipTests)" >&2; exit 2; }
"$JAVA" -version 2>&1 | head -1
"$PY" -c 'import torch; print("torch", torch.__version__)'
mkdir -p "$OUT_DIR"

ratios=()
for ((r = 1; r <= ROUNDS; r++)); do
    json="$OUT_DIR/pairs-jmh-$r.json"
    # shellcheck disable=SC2086
    "$JAVA" --add-modules jdk.incubator.vector -jar "$JAR" "TtEmbeddingBagBenchmark.$BENCH\$" \
        -p backend=cpu -p config="$CONFIG" -p threads="$THREADS" -f 1 $JMH_ARGS \
        -rf json -rff "$json" > "$OUT_DIR/pairs-jmh-$r.log" 2>&1 \
        || { tail -20 "$OUT_DIR/pairs-jmh-$r.log" >&2; exit 1; }
    tt=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["primaryMetric"]["score"])' "$json")
    # shellcheck disable=SC2086
    line=$("$PY" bench/tt_pytorch.py --configs "$CONFIG" --lookups "$LOOKUPS" --threads "$THREADS" $PY_ARGS \
        | awk -v c="$CONFIG" '$1 == c { print }')
    pt=$(echo "$line" | awk '{ gsub(",", "", $5); print $5 }')
    ratio=$(awk -v a="$tt" -v b="$pt" 'BEGIN { printf "%.1f", a / b }')
    ratios+=("$ratio")
    printf 'round %d: ttrec %.0f lookups/s, PyTorch %s lookups/s, ratio %sx\n' "$r" "$tt" "$pt" "$ratio"
done
printf '%s\n' "${ratios[@]}" | sort -g | awk '{ a[NR] = $1 } END {
    m = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
    printf "median ratio over %d rounds: %.1fx (min %.1fx, max %.1fx)\n", NR, m, a[1], a[NR] }'
