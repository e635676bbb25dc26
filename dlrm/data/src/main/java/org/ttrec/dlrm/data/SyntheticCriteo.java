package org.ttrec.dlrm.data;

import org.ttrec.dlrm.io.AtomicFiles;
import org.ttrec.dlrm.metrics.BinaryMetrics;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Seeded Criteo-shaped data with labels from a hidden "teacher" model, so that training has
 * something learnable with a known ceiling.
 *
 * <p>Every value of row r is a pure function of (seed, r): rows are generated on the fly in any
 * order and any thread count with identical results, and nothing is held in memory but the
 * config. Categorical ranks follow a continuous Zipf law (inverse CDF, O(1) per value, no tables
 * even for 10M-row vocabularies). Dense values are log-normal counts, partly missing (0).
 *
 * <p>Teacher logit = sum over tables of a per-value weight (table scale x hashed normal)
 * + dense weights x log(1+x) + a few pairwise terms (hashed normal of the pair of values of two
 * tables); it is then scaled by alpha and shifted by beta, calibrated on the first rows so that the
 * teacher's expected AUC is {@link SyntheticConfig#targetAuc()} and its mean CTR
 * {@link SyntheticConfig#baseCtr()}. Labels are Bernoulli(sigmoid(logit)) with a hashed uniform,
 * so no model can beat the teacher's AUC on average; {@link #teacherAuc} measures it on a split.
 */
public final class SyntheticCriteo {
    private static final long G = 0x9E3779B97F4A7C15L;
    private static final int DENSE = CriteoRowParser.DENSE;
    private static final int CALIBRATION_ROWS = 20000;

    private final SyntheticConfig cfg;
    private final int[] card;
    private final int tables;
    private final double[] zipfTop; // (n+1)^(1-s), per table
    private final double[] tableScale;
    private final double[] denseWeight;
    private final double[] denseMu;
    private final double[] denseSigma;
    private final double[] denseMissing;
    private final int[] pairA;
    private final int[] pairB;
    private final double pairScale;
    private final long valueSeed;
    private final long labelSeed;
    private final double alpha;
    private final double beta;
    private final Map<Split, long[]> ranges;

    /** @param cfg the settings; calibrates the teacher (a few ms) */
    public SyntheticCriteo(SyntheticConfig cfg) {
        this.cfg = cfg;
        this.card = cfg.cardinalities();
        this.tables = card.length;
        SplittableRandom rnd = new SplittableRandom(cfg.seed());
        valueSeed = rnd.nextLong();
        labelSeed = rnd.nextLong();
        double s = cfg.zipfExponent();
        zipfTop = new double[tables];
        tableScale = new double[tables];
        for (int t = 0; t < tables; t++) {
            zipfTop[t] = Math.abs(s - 1) < 1e-9 ? Math.log(card[t] + 1.0) : Math.pow(card[t] + 1.0, 1 - s);
            // Some tables matter a lot, some hardly, as in real click logs.
            tableScale[t] = 0.15 + 0.85 * rnd.nextDouble() * rnd.nextDouble();
        }
        denseWeight = new double[DENSE];
        denseMu = new double[DENSE];
        denseSigma = new double[DENSE];
        denseMissing = new double[DENSE];
        for (int j = 0; j < DENSE; j++) {
            denseWeight[j] = 0.25 * (2 * rnd.nextDouble() - 1);
            denseMu[j] = 5 * rnd.nextDouble();
            denseSigma[j] = 0.5 + 1.5 * rnd.nextDouble();
            denseMissing[j] = 0.45 * rnd.nextDouble();
        }
        int k = cfg.interactions();
        pairA = new int[k];
        pairB = new int[k];
        for (int p = 0; p < k; p++) {
            pairA[p] = rnd.nextInt(tables);
            int b = rnd.nextInt(tables - 1);
            pairB[p] = b >= pairA[p] ? b + 1 : b;
        }
        pairScale = 0.6;
        ranges = SplitRule.KAGGLE.ranges(new long[] {cfg.rows()});
        double[] ab = calibrate();
        alpha = ab[0];
        beta = ab[1];
    }

    /** @return the config */
    public SyntheticConfig config() {
        return cfg;
    }

    /** @return row ranges of the splits (dlrm's Kaggle rule over all rows) */
    public Map<Split, long[]> ranges() {
        Map<Split, long[]> m = new java.util.EnumMap<>(Split.class);
        ranges.forEach((k, v) -> m.put(k, v.clone()));
        return m;
    }

    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    private static double u01(long h) {
        return (h >>> 11) * 0x1.0p-53;
    }

    /** Approximately standard normal from 64 hash bits (Irwin-Hall of four 16-bit uniforms). */
    private static double gauss(long h) {
        double sum = (h & 0xffff) + ((h >>> 16) & 0xffff) + ((h >>> 32) & 0xffff) + (h >>> 48);
        return (sum / 65536.0 - 2.0) * 1.7320508075688772;
    }

    private int zipf(int t, double u) {
        int n = card[t];
        double s = cfg.zipfExponent();
        double x;
        if (Math.abs(s - 1) < 1e-9) {
            x = Math.exp(u * zipfTop[t]);
        } else {
            x = Math.pow(1 + u * (zipfTop[t] - 1), 1 / (1 - s));
        }
        int k = (int) x - 1;
        return k < 0 ? 0 : (k >= n ? n - 1 : k);
    }

    /**
     * Writes row r as {@code [label, dense..., indices...]}.
     *
     * @param r   row number in [0, rows)
     * @param dst destination
     * @param off offset in dst
     */
    public void row(long r, int[] dst, int off) {
        features(r, dst, off);
        double p = 1 / (1 + Math.exp(-(alpha * rawLogit(dst, off) + beta)));
        dst[off] = u01(mix(labelSeed + r * G)) < p ? 1 : 0;
    }

    /** The teacher's un-calibrated logit of a row's features. */
    private double rawLogit(int[] row, int off) {
        double z = 0;
        for (int j = 0; j < DENSE; j++) {
            z += denseWeight[j] * DenseTransform.apply(row[off + 1 + j]);
        }
        int q = off + 1 + DENSE;
        for (int t = 0; t < tables; t++) {
            z += tableScale[t] * gauss(mix(valueSeed ^ ((long) (t + 1) << 40) ^ (row[q + t] * G)));
        }
        for (int p = 0; p < pairA.length; p++) {
            long key = ((long) row[q + pairA[p]] << 32) ^ (row[q + pairB[p]] & 0xffffffffL);
            z += pairScale * gauss(mix(labelSeed ^ mix(key + (p + 1) * G)));
        }
        return z;
    }

    /** @return the teacher's click probability for a row written by {@link #row} */
    public double teacherProbability(int[] row, int off) {
        return 1 / (1 + Math.exp(-(alpha * rawLogit(row, off) + beta)));
    }

    /** Finds alpha (spread) and beta (offset) on the first rows; see the class comment. */
    private double[] calibrate() {
        int n = (int) Math.min(CALIBRATION_ROWS, cfg.rows());
        double[] z = new double[n];
        int[] row = new int[1 + DENSE + tables];
        // Labels are not needed here; features do not depend on alpha/beta.
        for (int i = 0; i < n; i++) {
            features(i, row, 0);
            z[i] = rawLogit(row, 0);
        }
        Arrays.sort(z);
        double lo = 0;
        double hi = 64;
        double b = 0;
        for (int it = 0; it < 50; it++) {
            double a = (lo + hi) / 2;
            b = solveBeta(z, a);
            if (expectedAuc(z, a, b) < cfg.targetAuc()) {
                lo = a;
            } else {
                hi = a;
            }
        }
        double a = (lo + hi) / 2;
        return new double[] {a, solveBeta(z, a)};
    }

    /** Dense values and categorical indices of row r (everything but the label). */
    private void features(long r, int[] dst, int off) {
        long base = mix(valueSeed + r * G);
        for (int j = 0; j < DENSE; j++) {
            long h = mix(base + (j + 1) * 0xD1B54A32D192ED03L);
            dst[off + 1 + j] = u01(h) < denseMissing[j] ? 0
                    : (int) Math.min(1e7, Math.exp(denseMu[j] + denseSigma[j] * gauss(mix(h ^ 0x5DEECE66DL))));
        }
        int q = off + 1 + DENSE;
        for (int t = 0; t < tables; t++) {
            dst[q + t] = zipf(t, u01(mix(base + (t + 101) * 0xD1B54A32D192ED03L)));
        }
    }

    private double solveBeta(double[] z, double a) {
        double lo = -60;
        double hi = 60;
        for (int it = 0; it < 60; it++) {
            double b = (lo + hi) / 2;
            double m = 0;
            for (double v : z) {
                m += 1 / (1 + Math.exp(-(a * v + b)));
            }
            if (m / z.length < cfg.baseCtr()) {
                lo = b;
            } else {
                hi = b;
            }
        }
        return (lo + hi) / 2;
    }

    /** AUC expected when labels are drawn from the probabilities (z sorted ascending). */
    private static double expectedAuc(double[] z, double a, double b) {
        double negBelow = 0;
        double num = 0;
        double pos = 0;
        double neg = 0;
        double self = 0;
        for (double v : z) {
            double p = 1 / (1 + Math.exp(-(a * v + b)));
            num += p * negBelow;
            negBelow += 1 - p;
            pos += p;
            neg += 1 - p;
            self += p * (1 - p);
        }
        return num / (pos * neg - self);
    }

    /**
     * The teacher's ROC AUC against the generated labels of a split (at most its first
     * {@code maxRows} rows): the ceiling a trained model can reach, up to sampling noise.
     *
     * @param split   which split
     * @param maxRows rows to use at most
     * @return the AUC
     */
    public double teacherAuc(Split split, long maxRows) {
        long[] r = ranges.get(split);
        int n = (int) Math.min(maxRows, r[1] - r[0]);
        // scored in float, as a model's predictions are, by the same AUC a training run reports
        float[] scores = new float[n];
        float[] labels = new float[n];
        int[] row = new int[1 + DENSE + tables];
        for (int i = 0; i < n; i++) {
            row(r[0] + i, row, 0);
            scores[i] = (float) teacherProbability(row, 0);
            labels[i] = row[0];
        }
        BinaryMetrics m = new BinaryMetrics();
        m.add(scores, labels, n);
        return m.result().auc();
    }

    /** @return mean label over a split's first {@code maxRows} rows */
    public double ctr(Split split, long maxRows) {
        long[] r = ranges.get(split);
        int n = (int) Math.min(maxRows, r[1] - r[0]);
        int[] row = new int[1 + DENSE + tables];
        long pos = 0;
        for (int i = 0; i < n; i++) {
            row(r[0] + i, row, 0);
            pos += row[0];
        }
        return n == 0 ? 0 : (double) pos / n;
    }

    /** Data sets up to this many rows are generated into memory up front by {@link #dataset()}. */
    public static final long IN_MEMORY_ROWS = 1 << 21;

    /**
     * @return the data set: up to {@link #IN_MEMORY_ROWS} rows are generated into memory in
     *         parallel (identical rows, since each is a pure function of the seed and its number),
     *         so batches cost an array copy; larger ones are generated on the fly
     */
    public Dataset dataset() {
        return cfg.rows() <= IN_MEMORY_ROWS ? inMemoryDataset() : onTheFlyDataset();
    }

    /** @return the rows generated into one array (at most ~53M rows) */
    public Dataset inMemoryDataset() {
        final int w = 1 + DENSE + tables;
        if (cfg.rows() > Datasets.MAX_IN_MEMORY_ROWS) {
            throw new IllegalArgumentException(cfg.rows() + " synthetic rows do not fit one array; use onTheFlyDataset()");
        }
        int n = (int) cfg.rows();
        int[] data = new int[n * w];
        final int chunk = 4096;
        java.util.stream.IntStream.range(0, (n + chunk - 1) / chunk).parallel().forEach(c -> {
            int end = Math.min(n, (c + 1) * chunk);
            for (int r = c * chunk; r < end; r++) {
                row(r, data, r * w);
            }
        });
        return new RowDataset(new ArrayRowStore(data, n, w, "synthetic(seed " + cfg.seed() + ")"), DENSE, card,
                ranges(), describe("in memory"));
    }

    private String describe(String how) {
        return String.format(
                "synthetic Criteo-shaped (%,d rows %s, %d tables, %,d embedding rows, zipf %.2f, seed %d, teacher AUC target %.3f)",
                cfg.rows(), how, tables, Arrays.stream(card).asLongStream().sum(), cfg.zipfExponent(), cfg.seed(),
                cfg.targetAuc());
    }

    /** @return a Dataset that generates rows on the fly (no memory, ~0.4M rows/s per stream) */
    public Dataset onTheFlyDataset() {
        final SyntheticCriteo gen = this;
        RowStore store = new RowStore() {
            @Override
            public long rows() {
                return cfg.rows();
            }

            @Override
            public int rowInts() {
                return 1 + DENSE + tables;
            }

            @Override
            public void read(long row, int count, int[] dst, int dstOff) {
                int w = 1 + DENSE + tables;
                for (int i = 0; i < count; i++) {
                    gen.row(row + i, dst, dstOff + i * w);
                }
            }

            @Override
            public String locate(long row) {
                return "synthetic row " + row;
            }

            @Override
            public String fileOf(long row) {
                return "synthetic(seed " + cfg.seed() + ")";
            }

            @Override
            public long byteOffsetOf(long row) {
                return -1;
            }
        };
        return new RowDataset(store, DENSE, card, ranges(), describe("generated on the fly"));
    }

    /**
     * The 8-hex-digit value written to raw TSV for index {@code idx} of table t: a bijective
     * 32-bit mix, so distinct indices give distinct hashes and a dictionary recovers the tables.
     */
    public static int hashOf(int t, int idx) {
        return CategoryDictionary.mix(idx ^ (0x6A09E667 + t * 0x3C6EF372));
    }

    private static final byte[] HEXDIGITS = "0123456789abcdef".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    /**
     * Writes all rows as raw Criteo TSV (label, 13 ints with missing values empty, 26 hex hashes),
     * atomically. facebookresearch/dlrm reads this as a Kaggle train.txt.
     *
     * @param file     the target
     * @param progress where to report progress ({@link Progress.Factory#NONE}: nowhere)
     * @throws IOException if writing fails
     */
    public void writeTsv(Path file, Progress.Factory progress) throws IOException {
        if (tables != CriteoRowParser.SPARSE) {
            throw new IllegalArgumentException("raw Criteo TSV has " + CriteoRowParser.SPARSE + " categorical columns; this config has "
                    + tables + " tables (write shards instead)");
        }
        AtomicFiles.write(file, out -> {
            int w = 1 + DENSE + tables;
            int[] row = new int[w];
            byte[] buf = new byte[1 << 20];
            int p = 0;
            try (Progress bar = progress.start("synth tsv", cfg.rows() * 230L)) {
                long bytes = 0;
                for (long r = 0; r < cfg.rows(); r++) {
                    if (p > buf.length - 512) {
                        out.write(buf, 0, p);
                        bytes += p;
                        p = 0;
                        if ((r & 0xffff) == 0) {
                            bar.update(bytes, r);
                        }
                    }
                    row(r, row, 0);
                    buf[p++] = (byte) ('0' + row[0]);
                    for (int j = 0; j < DENSE; j++) {
                        buf[p++] = '\t';
                        int v = row[1 + j];
                        if (v != 0) {
                            p = writeInt(buf, p, v);
                        }
                    }
                    for (int t = 0; t < tables; t++) {
                        buf[p++] = '\t';
                        int h = hashOf(t, row[1 + DENSE + t]);
                        for (int sh = 28; sh >= 0; sh -= 4) {
                            buf[p++] = HEXDIGITS[(h >>> sh) & 15];
                        }
                    }
                    buf[p++] = '\n';
                }
                out.write(buf, 0, p);
                bar.update(bytes + p, cfg.rows());
            }
        });
    }

    private static int writeInt(byte[] buf, int p, int v) {
        int start = p;
        while (v > 0) {
            buf[p++] = (byte) ('0' + v % 10);
            v /= 10;
        }
        for (int i = start, j = p - 1; i < j; i++, j--) {
            byte t = buf[i];
            buf[i] = buf[j];
            buf[j] = t;
        }
        return p;
    }

    /**
     * Writes all rows as ttrec shards plus metadata.json (no dictionaries file: indices are the
     * generator's own), atomically file by file.
     *
     * @param dir          output folder
     * @param rowsPerShard rows per shard
     * @param progress     where to report progress ({@link Progress.Factory#NONE}: nowhere)
     * @return the metadata
     * @throws IOException if writing fails
     */
    public DatasetMetadata writeShards(Path dir, long rowsPerShard, Progress.Factory progress) throws IOException {
        Files.createDirectories(dir);
        int w = 1 + DENSE + tables;
        int chunk = 4096;
        int[] rows = new int[chunk * w];
        List<DatasetMetadata.Entry> shards = new ArrayList<>();
        try (Progress bar = progress.start("synth shards", cfg.rows() * 4L * w)) {
            long r = 0;
            int s = 0;
            while (r < cfg.rows()) {
                Path target = dir.resolve(ShardFormat.shardName(s++));
                try (ShardWriter sw = new ShardWriter(target, DENSE, tables)) {
                    long stop = Math.min(cfg.rows(), r + rowsPerShard);
                    while (r < stop) {
                        int n = (int) Math.min(chunk, stop - r);
                        for (int i = 0; i < n; i++) {
                            row(r + i, rows, i * w);
                        }
                        sw.write(rows, 0, n);
                        r += n;
                        bar.update(r * 4L * w, r);
                    }
                    sw.finish(card);
                    shards.add(new DatasetMetadata.Entry(target.getFileName().toString(), sw.rows()));
                }
            }
        }
        Map<String, long[]> splits = new LinkedHashMap<>();
        ranges.forEach((k, v) -> splits.put(DatasetMetadata.splitKey(k), v));
        DatasetMetadata m = new DatasetMetadata(DatasetMetadata.FORMAT, ShardFormat.VERSION, cfg.rows(), DENSE, tables,
                card, shards, splits, List.of(new DatasetMetadata.Entry("synthetic:seed=" + cfg.seed(), cfg.rows())),
                0, 1, "kaggle", Map.of());
        m.write(dir.resolve(ShardFormat.METADATA));
        return m;
    }
}
