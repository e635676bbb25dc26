package org.ttrec.dlrm.cli;

import org.ttrec.dlrm.io.AtomicFiles;
import org.ttrec.dlrm.io.FloatIO;
import org.ttrec.dlrm.io.TextTable;
import org.ttrec.dlrm.train.SizeAucChart;

import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What {@code ttrec sweep} writes and prints from its finished runs: {@code sweep.csv} (one row
 * per run), {@code sweep.png} (test AUC against model size, one series per cache fraction, the
 * uncompressed model as a horizontal line) and the terminal table (one row per rank and cache
 * fraction, AUC as the mean over seeds and its difference to the uncompressed model's mean).
 */
final class SweepReport {
    /** The file of one row per run. */
    static final String CSV = "sweep.csv";
    /** The chart. */
    static final String PNG = "sweep.png";
    /** The CSV's header line. */
    static final String HEADER = "kind,rank,cache_fraction,seed,parameters,bytes,compression,test_auc,test_logloss,"
            + "test_accuracy,samples_per_s";

    private SweepReport() {}

    /**
     * One finished run. Its metrics are NaN when it diverged (or a metric is undefined).
     *
     * @param name                   the run folder's name under runs/
     * @param tt                     whether its TT tables are compressed (false: the uncompressed model)
     * @param rank                   TT rank (0 for the uncompressed model)
     * @param cacheFraction          hot-row cache fraction (0 for the uncompressed model)
     * @param seed                   the seed
     * @param parameters             the model's parameters, as {@code ttrec train} counts them
     * @param uncompressedParameters the parameters of the same model with every table dense
     * @param auc                    test AUC
     * @param logLoss                test log loss
     * @param accuracy               test accuracy
     * @param samplesPerSec          training throughput (evaluation excluded)
     */
    record Row(String name, boolean tt, int rank, double cacheFraction, long seed, long parameters,
               long uncompressedParameters, double auc, double logLoss, double accuracy, double samplesPerSec) {
        /** @return the parameters' bytes: float32, as {@code ttrec train}'s summary counts them */
        long bytes() {
            return (long) Float.BYTES * parameters;
        }

        /** @return uncompressed parameters / parameters, as {@code ttrec train} prints it */
        double compression() {
            return (double) uncompressedParameters / parameters;
        }

        /** @return the key its seeds share */
        String point() {
            return tt ? "r" + rank + "-c" + fraction(cacheFraction) : "uncompressed";
        }
    }

    /**
     * A configuration over its seeds.
     *
     * @param largest its run with the most parameters: a hot-row cache holds the rows its run saw (up to
     *                its capacity), so a cached model's size can differ by seed, and a budget must hold the largest
     * @param auc     mean test AUC of the runs with one (NaN if none has)
     * @param min     lowest test AUC
     * @param max     highest test AUC
     */
    record Point(Row largest, double auc, double min, double max) {}

    /**
     * @param f a fraction
     * @return its shortest decimal text, as run names and the CSV show it: 0, 0.01, 1
     */
    static String fraction(double f) {
        return BigDecimal.valueOf(f).stripTrailingZeros().toPlainString();
    }

    /**
     * @param rows the runs in the order they ran
     * @return the rows grouped by configuration, in order of first appearance
     */
    static List<Point> points(List<Row> rows) {
        Map<String, List<Row>> groups = new LinkedHashMap<>();
        for (Row r : rows) {
            groups.computeIfAbsent(r.point(), k -> new ArrayList<>()).add(r);
        }
        List<Point> points = new ArrayList<>();
        for (List<Row> g : groups.values()) {
            // a diverged seed has no AUC: the mean is over the seeds that have one
            double[] aucs = g.stream().mapToDouble(Row::auc).filter(Double::isFinite).toArray();
            double mean = aucs.length == 0 ? Double.NaN : Arrays.stream(aucs).average().orElseThrow();
            double min = Arrays.stream(aucs).min().orElse(Double.NaN);
            double max = Arrays.stream(aucs).max().orElse(Double.NaN);
            Row largest = g.stream().max(Comparator.comparingLong(Row::parameters)).orElseThrow();
            points.add(new Point(largest, mean, min, max));
        }
        return points;
    }

    /**
     * @param rows the runs
     * @return the CSV text: the header, then one line per run
     */
    static String csv(List<Row> rows) {
        StringBuilder sb = new StringBuilder(HEADER).append('\n');
        for (Row r : rows) {
            sb.append(String.join(",", r.tt() ? "tt" : "uncompressed",
                    r.tt() ? Integer.toString(r.rank()) : "", r.tt() ? fraction(r.cacheFraction()) : "",
                    Long.toString(r.seed()), Long.toString(r.parameters()), Long.toString(r.bytes()),
                    String.format(Locale.ROOT, "%.4f", r.compression()), num(r.auc()), num(r.logLoss()),
                    num(r.accuracy()), Double.isFinite(r.samplesPerSec())
                            ? String.format(Locale.ROOT, "%.1f", r.samplesPerSec()) : "NaN")).append('\n');
        }
        return sb.toString();
    }

    private static String num(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.6f", v) : "NaN";
    }

    /**
     * Writes sweep.csv atomically.
     *
     * @param dir  the sweep folder
     * @param rows the runs
     * @throws IOException if writing fails
     */
    static void writeCsv(Path dir, List<Row> rows) throws IOException {
        String text = csv(rows);
        AtomicFiles.write(dir.resolve(CSV), out -> out.write(text.getBytes(StandardCharsets.UTF_8)));
    }

    /**
     * Writes sweep.png: one series per cache fraction through its ranks, the uncompressed model
     * as a horizontal line at its mean AUC.
     *
     * @param dir   the sweep folder
     * @param rows  the runs
     * @param title the chart's title
     * @return whether it was written (not when no run has an AUC)
     * @throws IOException if writing fails
     */
    static boolean writeChart(Path dir, List<Row> rows, String title) throws IOException {
        Map<String, List<SizeAucChart.Point>> series = new LinkedHashMap<>();
        SizeAucChart.Reference ref = null;
        for (Point p : points(rows)) {
            Row r = p.largest();
            double mb = r.bytes() / 1e6;
            if (!r.tt()) {
                ref = new SizeAucChart.Reference(String.format(Locale.ROOT, "uncompressed, %s (line: its AUC %.4f)",
                        FloatIO.bytes(r.bytes()), p.auc()), mb, p.auc());
                continue;
            }
            series.computeIfAbsent("TT, cache fraction " + fraction(r.cacheFraction()), k -> new ArrayList<>())
                    .add(new SizeAucChart.Point(mb, p.auc(), p.min(), p.max(), "r" + r.rank()));
        }
        return SizeAucChart.write(dir.resolve(PNG), title, series, ref);
    }

    /**
     * The terminal table: one row per configuration, the uncompressed model first.
     *
     * @param rows  the runs
     * @param seeds how many seeds each configuration ran
     * @return the table, lines ending in '\n'
     */
    static String table(List<Row> rows, int seeds) {
        List<Point> points = points(rows);
        double base = points.stream().filter(p -> !p.largest().tt()).mapToDouble(Point::auc).findFirst().orElse(Double.NaN);
        List<List<String>> cells = new ArrayList<>();
        cells.add(List.of("model", "rank", "cache", "size", "compression", seeds > 1 ? "test AUC [min-max]" : "test AUC",
                "vs uncompressed"));
        for (Point p : points) {
            Row r = p.largest();
            String auc = Double.isNaN(p.auc()) ? "-" : String.format(Locale.ROOT, "%.4f", p.auc());
            if (seeds > 1 && !Double.isNaN(p.auc())) {
                auc += String.format(Locale.ROOT, " [%.4f-%.4f]", p.min(), p.max());
            }
            double d = p.auc() - base;
            cells.add(List.of(r.tt() ? "TT" : "uncompressed", r.tt() ? Integer.toString(r.rank()) : "-",
                    r.tt() ? fraction(r.cacheFraction()) : "-", FloatIO.bytes(r.bytes()),
                    String.format(Locale.ROOT, "x%.2f", r.compression()), auc,
                    !r.tt() || Double.isNaN(d) ? "" : String.format(Locale.ROOT, "%+.4f", d)));
        }
        // the model name left-aligned, numbers right-aligned
        StringBuilder sb = new StringBuilder(TextTable.align(cells, 1));
        sb.append(seeds > 1 ? "test AUC: mean [min-max] over " + seeds + " seeds; " : "")
                .append("size: float32 parameters").append(seeds > 1 ? ", the largest of the seeds' models" : "")
                .append("; vs uncompressed: the AUC minus the uncompressed model's\n");
        return sb.toString();
    }
}
