#!/usr/bin/env bash
# The tornado backend on a GPU machine with no Java and no Maven: runs what was carried there,
# builds nothing. Expects, in one folder: jre/ (a jlinked JDK 25 runtime with jdk.internal.vm.ci),
# sdk/ (a TornadoVM SDK, OpenCL backend) and ttrec-gpu/ (engine-tornado/gpu/pack.sh), then
#   ttrec-gpu/run-on-device.sh [DEVICE] [all|tests|suite|bench]      (DEVICE default 0:0)
# It makes NVIDIA's OpenCL driver visible to the ICD loader (the machine's /etc/OpenCL/vendors may
# list only PoCL; TTREC_NO_NVIDIA=1 leaves it out), lists the TornadoVM devices, runs the backend
# conformance suite and engine-tornado's tests (launch check, steady steps, the short training
# against the cpu backend) on DEVICE, then the benchmark: TT forward + backward + SGD at 2,048 and
# 65,536 lookups (p = (200, 220, 250), q = (2, 2, 4), R = 32) and a Kaggle-shaped training step
# at batch 128 and 2048, on tornado and on the cpu backend. Logs and bench.jsonl go to $OUT
# (the device tool's output folder), else to ./logs. Exit code: 1 if a test failed. Time limits
# (seconds, worst case about 15 minutes in all; 'tests' and 'bench' can run as two calls):
# TTREC_SUITE_TIMEOUT (300), TTREC_TESTS_TIMEOUT (240), TTREC_BENCH_TIMEOUT (180 per backend).
# The tornado bench runs with -Dttrec.tornado.cutPeriod=32: longer programs, fewer executions per step.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
device="${1:-0:0}"
what="${2:-all}"
export JAVA_HOME="${JAVA_HOME:-$root/jre}"
export TORNADOVM_HOME="${TORNADOVM_HOME:-$root/sdk}"
out="${OUT:-$root/logs}"
mkdir -p "$out"

mkdir -p "$root/icd"
rm -f "$root"/icd/*.icd
if [ -z "${TTREC_NO_NVIDIA:-}" ]; then
  echo "libnvidia-opencl.so.1" > "$root/icd/nvidia.icd"
fi
for f in /etc/OpenCL/vendors/*.icd; do [ -e "$f" ] && cp "$f" "$root/icd/"; done
export OCL_ICD_VENDORS="$root/icd"

# the SDK's JVM flags with its path filled in, and the flags the ttrec launcher adds
argfile="$root/tornado.argfile"
sed "s|\${TORNADOVM_HOME}|$TORNADOVM_HOME|g" "$TORNADOVM_HOME/tornado-argfile.template" > "$argfile"
flags=(@"$argfile" -Dtornado.recover.bailout=False -Dtornado.enable.fma=False -Dtornado.enable.nativeFunctions=False
       -Dtornado.tvm.maxbytecodesize=65536 -Dtornado.device.memory="${TORNADO_DEVICE_MEMORY:-32GB}"
       --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx"${TTREC_HEAP_GB:-16}"g
       -Dttrec.tornado.device="$device" -Dttrec.tornado.stats=true ${JAVA_OPTS:-})
run() { "$JAVA_HOME/bin/java" "${flags[@]}" -cp "$here/lib/*" "$@"; }

status=0
echo "== devices (ttrec backends)"
timeout 120 "$JAVA_HOME/bin/java" "${flags[@]}" -cp "$here/lib/*" org.ttrec.dlrm.cli.Main backends 2>&1 | tee "$out/devices.txt"
if [ "$what" = all ] || [ "$what" = tests ] || [ "$what" = suite ]; then
  echo "== conformance suite (cpu and tornado on $device)"
  timeout "${TTREC_SUITE_TIMEOUT:-300}" bash -c "$(declare -f run); $(declare -p flags here); run org.ttrec.engine.tornado.gpu.RunTests org.ttrec.tests.conformance" \
      > "$out/conformance.txt" 2>&1 || status=1
  grep -a -E "passed, |FAILED|MethodSource|=> " "$out/conformance.txt" | tail -40
fi
if [ "$what" = all ] || [ "$what" = tests ]; then
  echo "== engine-tornado tests (launch check, steady steps, training vs cpu)"
  timeout "${TTREC_TESTS_TIMEOUT:-240}" bash -c "$(declare -f run); $(declare -p flags here); run org.ttrec.engine.tornado.gpu.RunTests org.ttrec.engine.tornado.LaunchCheckTest org.ttrec.engine.tornado.SteadyStepCompileTest org.ttrec.engine.tornado.TrainingMatchesCpuTest" \
      > "$out/engine-tornado-tests.txt" 2>&1 || status=1
  grep -a -E "passed, |TrainingMatchesCpuTest:|SteadyStepCompileTest:|=> " "$out/engine-tornado-tests.txt" | tail -20
fi
if [ "$what" = all ] || [ "$what" = bench ]; then
  echo "== bench (tornado on $device, then the cpu backend)"
  timeout "${TTREC_BENCH_TIMEOUT:-180}" bash -c "$(declare -f run); $(declare -p flags here); run -Dttrec.tornado.cutPeriod=32 org.ttrec.engine.tornado.gpu.Bench --backend tornado --seconds 3 --out '$out/bench.jsonl'" \
      2>&1 | grep -a -v "^WARNING" | tee "$out/bench-tornado.txt"
  timeout "${TTREC_BENCH_TIMEOUT:-180}" bash -c "$(declare -f run); $(declare -p flags here); run org.ttrec.engine.tornado.gpu.Bench --backend cpu --seconds 3 --out '$out/bench.jsonl'" \
      2>&1 | grep -a -v "^WARNING" | tee "$out/bench-cpu.txt"
fi
exit $status
