#!/usr/bin/env bash
# Packs what run-on-device.sh runs on a machine without Java or Maven (the GPU machine): the
# project's jars, their dependencies, the test classes of engine-tornado and of the conformance
# suite, run-on-device.sh, and bench/many-core.sh with what it runs (tt_pytorch.py, the JMH jar
# if jmh was built), as ttrec-gpu/ in ttrec-gpu.tar.xz. Run it here, with
# TORNADOVM_HOME naming the SDK the jars are built against (nothing of TornadoVM is packed: the
# runtime and the SDK travel separately, see the README section "GPU backend").
#   engine-tornado/gpu/pack.sh [output folder]      (default engine-tornado/target/gpu)
# TTREC_GPU_JRE_TAR / TTREC_GPU_SDK_TAR: archives of the runtime (unpacking to jre/) and of the
# SDK (unpacking to sdk/) to copy into the output folder too, so that it holds everything the
# GPU machine needs:  tar -xJf jre.tar.xz && tar -xJf sdk.tar.xz && tar -xJf ttrec-gpu.tar.xz
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="$(mkdir -p "${1:-$root/engine-tornado/target/gpu}" && cd "${1:-$root/engine-tornado/target/gpu}" && pwd)"
: "${TORNADOVM_HOME:?set TORNADOVM_HOME to the TornadoVM SDK the jars are built against}"
JAVA_HOME="$("$root/ttrec" --which-java)"
export JAVA_HOME
stage="$out/ttrec-gpu"
rm -rf "$stage" && mkdir -p "$stage/lib"
cd "$root"
./mvnw -o -B -q -DskipTests package dependency:copy-dependencies -pl engine-tornado,tests -am \
    -DincludeScope=test -DexcludeGroupIds=io.github.beehive-lab -DoutputDirectory="$stage/lib" >/dev/null
for m in engine-api engine-cpu dlrm/data dlrm/model dlrm/train dlrm/cli engine-tornado; do
  cp "$m"/target/"${m/\//-}"-*.jar "$stage/lib/"   # dlrm/data builds dlrm-data-*.jar
done
"$JAVA_HOME/bin/jar" --create --file "$stage/lib/ttrec-conformance-tests.jar" -C tests/target/test-classes .
cp engine-tornado/gpu/run-on-device.sh "$stage/"
# issue 17's many-core measurements run from the same folder (the JMH jar when it was built)
cp bench/many-core.sh bench/tt_pytorch.py "$stage/"
if [ -f jmh/target/benchmarks.jar ]; then cp jmh/target/benchmarks.jar "$stage/"; fi
tar -C "$out" -cf - ttrec-gpu | xz -9 -T2 > "$out/ttrec-gpu.tar.xz"
[ -n "${TTREC_GPU_JRE_TAR:-}" ] && cp "$TTREC_GPU_JRE_TAR" "$out/jre.tar.xz"
[ -n "${TTREC_GPU_SDK_TAR:-}" ] && cp "$TTREC_GPU_SDK_TAR" "$out/sdk.tar.xz"
rm -rf "$stage"
echo "packed in $out:"
ls -l "$out"
