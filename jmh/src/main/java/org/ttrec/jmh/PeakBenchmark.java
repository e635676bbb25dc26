package org.ttrec.jmh;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.ttrec.engine.cpu.VectorWidth;

import java.util.concurrent.TimeUnit;

/**
 * Peak single-core FMA throughput of the Vector API on this CPU: the ceiling GemmBenchmark is
 * measured against.
 *
 * <p>Twelve independent accumulator chains each take one {@code fma} per step. With an FMA
 * latency of 4 cycles and two FMA ports, at least 8 chains are needed to keep both ports busy;
 * 12 leaves margin and still fits in the register file, so the loop is bound by FMA
 * throughput, not latency.
 *
 * <p>Reading the score: it is in vector FMAs per second ({@code ops/s}, one op = one
 * {@code FloatVector.fma} of {@link VectorWidth#LANES} lanes). GFLOP/s = score x lanes x 2 / 1e9,
 * e.g. at 512 bits (16 lanes) GFLOP/s = score x 32 / 1e9. The run prints the lane count.
 * A 1024^3 GEMM does 1024^3 multiply-adds = 1024^3 / lanes vector FMAs, so its fraction of peak
 * is (1024^3 / lanes / gemm seconds) / score.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xms512m", "-Xmx512m"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class PeakBenchmark {
    private static final VectorSpecies<Float> F = VectorWidth.SCALAR ? FloatVector.SPECIES_PREFERRED : VectorWidth.FLOAT;
    private static final int STEPS = 4096;
    private static final int CHAINS = 12;

    private float x = 0.9999999f;
    private float y = 1e-7f;

    /** Prints the lanes used, so the score can be converted to GFLOP/s. */
    @org.openjdk.jmh.annotations.Setup
    public void report() {
        System.out.println("[peak] " + F.vectorBitSize() + "-bit FloatVector, " + F.length()
                + " lanes: GFLOP/s = score x " + (2 * F.length()) + " / 1e9");
    }

    /** @return the accumulators' sum, so nothing is dead code */
    @Benchmark
    @OperationsPerInvocation(STEPS * CHAINS)
    public float fmaChains() {
        FloatVector a = FloatVector.broadcast(F, x), b = FloatVector.broadcast(F, y);
        FloatVector c0 = FloatVector.broadcast(F, 1f), c1 = c0.add(1f), c2 = c0.add(2f), c3 = c0.add(3f);
        FloatVector c4 = c0.add(4f), c5 = c0.add(5f), c6 = c0.add(6f), c7 = c0.add(7f);
        FloatVector c8 = c0.add(8f), c9 = c0.add(9f), c10 = c0.add(10f), c11 = c0.add(11f);
        for (int i = 0; i < STEPS; i++) {
            c0 = c0.fma(a, b); c1 = c1.fma(a, b); c2 = c2.fma(a, b); c3 = c3.fma(a, b);
            c4 = c4.fma(a, b); c5 = c5.fma(a, b); c6 = c6.fma(a, b); c7 = c7.fma(a, b);
            c8 = c8.fma(a, b); c9 = c9.fma(a, b); c10 = c10.fma(a, b); c11 = c11.fma(a, b);
        }
        return c0.add(c1).add(c2).add(c3).add(c4).add(c5).add(c6).add(c7).add(c8).add(c9).add(c10).add(c11)
                .reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
    }
}
