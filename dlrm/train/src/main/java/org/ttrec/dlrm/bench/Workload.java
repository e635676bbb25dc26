package org.ttrec.dlrm.bench;

import org.ttrec.engine.ComputeBackend;
import org.ttrec.engine.DenseTable;
import org.ttrec.engine.EmbeddingTable;
import org.ttrec.engine.FloatBuf;
import org.ttrec.engine.IntBuf;
import org.ttrec.engine.LookupPlan;
import org.ttrec.engine.Pooling;
import org.ttrec.engine.SparseOptimizer;
import org.ttrec.engine.TtShape;
import org.ttrec.engine.TtTable;
import org.ttrec.engine.tt.TtInit;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * The workloads of {@code ttrec bench}, in the shapes the JMH benchmarks use (module jmh), each run
 * through the {@link ComputeBackend} interface alone so that every backend runs the same calls.
 * One op is queued by {@link Op#run()}; the runner waits for the backend ({@link ComputeBackend#sync()})
 * before it reads the clock.
 */
public enum Workload {
    /** Square SGEMM 1024 (GemmBenchmark). */
    SGEMM("sgemm", "SGEMM 1024x1024x1024", "GFLOP/s", 2.0 * 1024 * 1024 * 1024 / 1e9, true),
    /** 65,536 gathered products 2x32 by 32x64 from a pool of 256 B matrices (BatchedGemmBenchmark). */
    BGEMM_2X32X64("bgemm-2x32x64", "batched GEMM 65,536 x 2x32x64", "GFLOP/s", 2.0 * 2 * 32 * 64 * BatchShapes.BATCH / 1e9, false),
    /** The same with 4x32 by 32x4 products. */
    BGEMM_4X32X4("bgemm-4x32x4", "batched GEMM 65,536 x 4x32x4", "GFLOP/s", 2.0 * 4 * 32 * 4 * BatchShapes.BATCH / 1e9, false),
    /** TT-EmbeddingBag forward + backward + fused SGD, 2,048 bags of 1 lookup (TtEmbeddingBagBenchmark). */
    TT2K("tt2k", "TT fwd+bwd+SGD 2,048 lookups", "lookups/s", 2048, false),
    /** The same with 2,048 bags of 32 lookups. */
    TT64K("tt64k", "TT fwd+bwd+SGD 65,536 lookups", "lookups/s", 65536, true),
    /** Uncompressed EmbeddingBag of the same table, forward + backward + fused SGD, 65,536 lookups. */
    BAG("bag", "EmbeddingBag fwd+bwd+SGD 65,536 lookups", "lookups/s", 65536, false),
    /** One training step of the Kaggle-shaped DLRM (7 TT tables) at batch 128 (TrainBenchmark). */
    TRAIN128("train128", "train step, Kaggle shape, batch 128", "samples/s", 128, false),
    /** The same at batch 2048. */
    TRAIN2048("train2048", "train step, Kaggle shape, batch 2048", "samples/s", 2048, true);

    /** Criteo Kaggle's largest table, which the TT and EmbeddingBag rows look up. */
    static final int TABLE_ROWS = 10_131_227;
    private static final int[] P = {200, 220, 250};
    private static final int[] Q = {2, 2, 4};
    private static final int DIM = 16;
    private static final int BAGS = 2048;
    /** Distinct pre-generated lookup batches cycled through, so no two consecutive ops repeat one. */
    private static final int LOOKUP_BATCHES = 8;
    /** Rows cap of the training model, as TrainBenchmark's default. */
    static final int TRAIN_ROWS_CAP = 1_000_000;
    private static final SparseOptimizer SGD = SparseOptimizer.sgd(0.01f);

    private final String id;
    private final String title;
    private final String unit;
    private final double workPerOp;
    private final boolean slowOnScalar;

    Workload(String id, String title, String unit, double workPerOp, boolean slowOnScalar) {
        this.id = id;
        this.title = title;
        this.unit = unit;
        this.workPerOp = workPerOp;
        this.slowOnScalar = slowOnScalar;
    }

    /** @return the name {@code --workloads} takes */
    public String id() {
        return id;
    }

    /** @return what one op does, for the table */
    public String title() {
        return title;
    }

    /** @return the unit of the rate: GFLOP/s, lookups/s or samples/s */
    public String unit() {
        return unit;
    }

    /** @return work per op in the rate's unit (GFLOP, lookups, samples) */
    public double workPerOp() {
        return workPerOp;
    }

    /** @return whether the scalar reference needs so long per op here that it is skipped by default */
    public boolean slowOnScalar() {
        return slowOnScalar;
    }

    /** @return a rough upper bound of the backend memory one instance needs, in bytes */
    public long bytesNeeded() {
        return switch (this) {
            case BAG -> (long) TABLE_ROWS * DIM * 4 + (64L << 20);
            case TRAIN128, TRAIN2048 -> 512L << 20;
            case BGEMM_2X32X64, BGEMM_4X32X4 -> (long) BatchShapes.BATCH * 2 * 32 * 64 * 4 * 2;
            default -> 64L << 20;
        };
    }

    /**
     * Parses {@code --workloads}: names separated by commas, "all", or "bgemm" for both batched shapes.
     *
     * @param spec the option's value
     * @return the workloads, in the order given, without repeats
     * @throws IllegalArgumentException naming an unknown entry and the known ones
     */
    public static List<Workload> parse(String spec) {
        Set<Workload> out = new LinkedHashSet<>();
        for (String raw : spec.split(",")) {
            String s = raw.trim().toLowerCase(Locale.ROOT);
            if (s.equals("all")) {
                out.addAll(List.of(values()));
            } else if (s.equals("bgemm")) {
                out.add(BGEMM_2X32X64);
                out.add(BGEMM_4X32X4);
            } else {
                Workload found = null;
                for (Workload w : values()) {
                    if (w.id.equals(s)) {
                        found = w;
                    }
                }
                if (found == null) {
                    List<String> known = new ArrayList<>();
                    for (Workload w : values()) {
                        known.add(w.id);
                    }
                    throw new IllegalArgumentException("--workloads: unknown workload '" + raw.trim() + "'; known: "
                            + String.join(", ", known) + ", bgemm (both batched shapes), all");
                }
                out.add(found);
            }
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("--workloads: no workload named in '" + spec + "'");
        }
        return new ArrayList<>(out);
    }

    /** One instance of a workload on one backend. */
    public interface Op extends AutoCloseable {
        /** Queues one op on the backend (a host backend finishes it before returning). */
        void run();

        /** Releases what the instance holds on the backend. */
        @Override
        void close();
    }

    /**
     * Builds an instance: operands, tables, pre-generated batches. Nothing here is timed.
     *
     * @param be the backend
     * @return the instance
     * @throws IOException if the training data cannot be generated
     */
    public Op build(ComputeBackend be) throws IOException {
        return switch (this) {
            case SGEMM -> sgemm(be, 1024);
            case BGEMM_2X32X64 -> batched(be, 2, 32, 64);
            case BGEMM_4X32X4 -> batched(be, 4, 32, 4);
            case TT2K -> lookups(be, true, 1);
            case TT64K -> lookups(be, true, 32);
            case BAG -> lookups(be, false, 32);
            case TRAIN128 -> train(be, 128);
            case TRAIN2048 -> train(be, 2048);
        };
    }

    private static float[] random(SplittableRandom r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextDouble() - 0.5f;
        }
        return v;
    }

    private static Op sgemm(ComputeBackend be, int n) {
        SplittableRandom r = new SplittableRandom(42);
        FloatBuf a = be.upload(random(r, n * n)), b = be.upload(random(r, n * n)), c = be.allocFloats(n * n);
        return new Op() {
            @Override
            public void run() {
                be.gemm(false, false, n, n, n, 1f, a, 0, n, b, 0, n, 0f, c, 0, n);
            }

            @Override
            public void close() {
                a.close();
                b.close();
                c.close();
            }
        };
    }

    /** Sizes of the batched GEMM rows, as BatchedGemmBenchmark's. */
    static final class BatchShapes {
        static final int BATCH = 65536;
        static final int POOL = 256;

        private BatchShapes() {}
    }

    private static Op batched(ComputeBackend be, int m, int k, int n) {
        int batch = BatchShapes.BATCH;
        SplittableRandom r = new SplittableRandom(42);
        FloatBuf a = be.upload(random(r, batch * m * k));
        FloatBuf b = be.upload(random(r, BatchShapes.POOL * k * n));
        FloatBuf c = be.allocFloats(batch * m * n);
        int[] ao = new int[batch], bo = new int[batch], co = new int[batch];
        for (int x = 0; x < batch; x++) {
            ao[x] = x * m * k;
            bo[x] = r.nextInt(BatchShapes.POOL) * k * n; // TT core slices repeat across lookups
            co[x] = x * m * n;
        }
        IntBuf aOffs = be.upload(ao), bOffs = be.upload(bo), cOffs = be.upload(co);
        return new Op() {
            @Override
            public void run() {
                be.gemmBatched(false, false, m, n, k, 1f, a, aOffs, k, b, bOffs, n, 0f, c, cOffs, n, 0, batch);
            }

            @Override
            public void close() {
                a.close();
                b.close();
                c.close();
                aOffs.close();
                bOffs.close();
                cOffs.close();
            }
        };
    }

    /**
     * A TT or uncompressed table of Kaggle's largest size, through the table API a training step uses:
     * per op the plan is set to the next batch (copy, and the cpu backend's sort), then the forward,
     * then the backward with fused SGD.
     */
    private static Op lookups(ComputeBackend be, boolean tt, int perBag) {
        EmbeddingTable table;
        if (tt) {
            TtShape shape = TtShape.uniformRank(TABLE_ROWS, P, Q, 32);
            TtTable t = be.newTtTable("bench tt", shape);
            float[][] cores = TtInit.sampledGaussian().create(shape, 1);
            for (int k = 0; k < cores.length; k++) {
                t.writeCore(k, cores[k]);
            }
            table = t;
        } else {
            DenseTable t = be.newDenseTable("bench bag", TABLE_ROWS, DIM);
            // one random block written over and over: the values do not change the speed, and
            // generating 160M random floats would take longer than measuring
            int block = 1 << 16;
            float[] rows = random(new SplittableRandom(3), block * DIM);
            for (int i = 0; i < rows.length; i++) {
                rows[i] *= 0.01f;
            }
            for (int first = 0; first < TABLE_ROWS; first += block) {
                t.writeRows(first, rows, 0, Math.min(block, TABLE_ROWS - first));
            }
            table = t;
        }
        SplittableRandom r = new SplittableRandom(42);
        int[][] batches = new int[LOOKUP_BATCHES][BAGS * perBag];
        for (int[] b : batches) {
            for (int j = 0; j < b.length; j++) {
                b[j] = r.nextInt(TABLE_ROWS);
            }
        }
        int[] offsets = new int[BAGS + 1];
        for (int b = 0; b <= BAGS; b++) {
            offsets[b] = b * perBag;
        }
        LookupPlan plan = table.newPlan();
        plan.reserve(BAGS * perBag, BAGS);
        FloatBuf out = be.allocFloats(BAGS * DIM);
        FloatBuf grad = be.upload(scaled(random(r, BAGS * DIM), 2e-3f));
        return new Op() {
            private int next;

            @Override
            public void run() {
                plan.set(batches[next], offsets, BAGS, null);
                next = (next + 1) % batches.length;
                table.forward(plan, Pooling.SUM, false, out, 0, DIM);
                table.backward(plan, Pooling.SUM, grad, 0, DIM, SGD);
            }

            @Override
            public void close() {
                plan.close();
                out.close();
                grad.close();
                table.close();
            }
        };
    }

    private static float[] scaled(float[] v, float s) {
        for (int i = 0; i < v.length; i++) {
            v[i] *= s;
        }
        return v;
    }

    private static Op train(ComputeBackend be, int batch) throws IOException {
        KaggleTrainStep step = new KaggleTrainStep(be, "tt", batch, TRAIN_ROWS_CAP, 0, Math.max(2048, batch), 0);
        return new Op() {
            @Override
            public void run() {
                step.step();
            }

            @Override
            public void close() {
                step.close();
            }
        };
    }
}
