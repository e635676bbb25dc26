package org.ttrec.dlrm.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.ttrec.dlrm.io.AtomicFiles;
import org.ttrec.dlrm.io.TextTable;
import org.ttrec.dlrm.train.Provenance;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What {@code ttrec bench} prints and writes: the terminal table (one row per workload, one
 * column per backend x threads, then one ratio column per later column against the first, left out
 * where it would hold no number),
 * {@code bench.json} (machine facts and every window) and {@code bench.png} (a grouped bar chart,
 * each workload normalised to its first column so that GFLOP/s, lookups/s and samples/s share an axis).
 */
public final class BenchReport {
    private BenchReport() {}

    /**
     * The ratio of two cells' medians, as the ratio columns show it.
     *
     * @param cell  a cell
     * @param first the first column's cell of the same workload
     * @return cell median / first median, or NaN when either was not measured
     */
    public static double ratio(Measurement cell, Measurement first) {
        return cell.ok() && first.ok() ? cell.median() / first.median() : Double.NaN;
    }

    /**
     * A rate in three significant digits with an SI suffix: 45.1, 3.21M, 12.3k.
     *
     * @param v the value
     * @return the text
     */
    public static String si(double v) {
        if (Double.isNaN(v) || Double.isInfinite(v)) {
            return "-";
        }
        // round to three significant digits first, so 999.96 becomes 1.00k, not 1000
        double r = Double.parseDouble(String.format(Locale.ROOT, "%.3g", v));
        String suffix = "";
        double x = r;
        if (Math.abs(r) >= 1e9) {
            x = r / 1e9;
            suffix = "G";
        } else if (Math.abs(r) >= 1e6) {
            x = r / 1e6;
            suffix = "M";
        } else if (Math.abs(r) >= 1e3) {
            x = r / 1e3;
            suffix = "k";
        }
        String fmt = Math.abs(x) >= 100 ? "%.0f" : Math.abs(x) >= 10 ? "%.1f" : Math.abs(x) >= 1 ? "%.2f" : "%.3g";
        return String.format(Locale.ROOT, fmt, x) + suffix;
    }

    /**
     * The terminal table. Cells are "median [min-max]" of the windows; skipped and failed cells point
     * to a note under the table that says why.
     *
     * @param cols    the columns, in order (the first is the ratios' reference)
     * @param results the measurements, workload-major, each workload with one per column in {@code cols} order
     * @return the table, lines ending in '\n'
     */
    public static String table(List<BenchRunner.Column> cols, List<Measurement> results) {
        List<List<Measurement>> rows = rows(cols, results);
        List<String> header = new ArrayList<>(List.of("workload", "unit"));
        cols.forEach(c -> header.add(c.label()));
        // a ratio column with no number in it (e.g. scalar x2, always skipped) would only widen the table
        List<Integer> ratioCols = new ArrayList<>();
        for (int j = 1; j < cols.size(); j++) {
            int col = j;
            if (rows.stream().anyMatch(r -> !Double.isNaN(ratio(r.get(col), r.get(0))))) {
                ratioCols.add(j);
                header.add(cols.get(j).label() + " / " + cols.get(0).label());
            }
        }
        Map<String, String> notes = new LinkedHashMap<>(); // reason -> mark, in order of first use
        List<List<String>> cells = new ArrayList<>();
        cells.add(header);
        for (List<Measurement> row : rows) {
            Workload w = row.get(0).workload();
            List<String> line = new ArrayList<>(List.of(w.id(), w.unit()));
            for (Measurement m : row) {
                if (m.ok()) {
                    line.add(si(m.median()) + " [" + si(m.min()) + "-" + si(m.max()) + "]");
                } else {
                    String mark = notes.computeIfAbsent(m.status().name().toLowerCase(Locale.ROOT) + ": " + m.reason(),
                            k -> "(" + (char) ('a' + notes.size()) + ")");
                    line.add((m.status() == Measurement.Status.FAILED ? "FAILED " : "skipped ") + mark);
                }
            }
            for (int j : ratioCols) {
                double r = ratio(row.get(j), row.get(0));
                line.add(Double.isNaN(r) ? "-" : String.format(Locale.ROOT, "%.2fx", r));
            }
            cells.add(line);
        }
        // names (workload, unit) left-aligned, numbers right-aligned
        StringBuilder sb = new StringBuilder(TextTable.align(cells, 2));
        sb.append("median [min-max] of the timed windows;");
        if (!ratioCols.isEmpty()) {
            sb.append(" ratio columns: median / the ").append(cols.get(0).label()).append(" median;");
        }
        sb.append(" higher is faster\n");
        for (List<Measurement> row : rows) {
            Workload w = row.get(0).workload();
            sb.append(String.format("  %-" + 13 + "s %s%n", w.id(), w.title()));
        }
        notes.forEach((reason, mark) -> sb.append(mark).append(' ').append(reason).append('\n'));
        return sb.toString();
    }

    /** Groups the measurements per workload, checking each row has one cell per column in order. */
    private static List<List<Measurement>> rows(List<BenchRunner.Column> cols, List<Measurement> results) {
        if (cols.isEmpty() || results.size() % cols.size() != 0) {
            throw new IllegalArgumentException(results.size() + " measurements do not fill rows of " + cols.size() + " columns");
        }
        List<List<Measurement>> rows = new ArrayList<>();
        for (int i = 0; i < results.size(); i += cols.size()) {
            List<Measurement> row = results.subList(i, i + cols.size());
            for (int j = 0; j < cols.size(); j++) {
                Measurement m = row.get(j);
                if (m.workload() != row.get(0).workload() || !m.backend().equals(cols.get(j).backend())
                        || m.threads() != cols.get(j).threads()) {
                    throw new IllegalArgumentException("measurement " + (i + j) + " is not " + row.get(0).workload().id()
                            + " on " + cols.get(j).label());
                }
            }
            rows.add(row);
        }
        return rows;
    }

    /**
     * Writes bench.json, bench.txt (the table) and bench.png into {@code dir}, each atomically; the
     * chart is left out when no cell was measured.
     *
     * @param dir      the output folder (created if missing)
     * @param version  the ttrec version
     * @param settings what was run
     * @param results  the measurements, as {@link BenchRunner#run} returns them
     * @return the names of the files written
     * @throws IOException if writing fails
     */
    public static List<String> write(Path dir, String version, BenchRunner.Settings settings, List<Measurement> results)
            throws IOException {
        Files.createDirectories(dir);
        ObjectMapper om = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = json(om, version, settings, results);
        AtomicFiles.write(dir.resolve("bench.json"), out -> om.writeValue(out, root));
        String table = table(settings.columns(), results);
        AtomicFiles.write(dir.resolve("bench.txt"), out -> out.write(table.getBytes(StandardCharsets.UTF_8)));
        List<String> written = new ArrayList<>(List.of("bench.json", "bench.txt"));
        if (chart(dir.resolve("bench.png"), settings.columns(), results)) {
            written.add("bench.png");
        }
        return written;
    }

    static ObjectNode json(ObjectMapper om, String version, BenchRunner.Settings settings, List<Measurement> results) {
        ObjectNode root = om.createObjectNode();
        ObjectNode ttrec = root.putObject("ttrec");
        ttrec.put("version", version);
        ttrec.put("gitSha", Provenance.gitSha());
        ObjectNode machine = root.putObject("machine");
        machine.put("cpu", Provenance.cpuModel());
        machine.put("cores", Runtime.getRuntime().availableProcessors());
        machine.put("jvm", System.getProperty("java.vm.name") + " " + Runtime.version());
        machine.put("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
        machine.put("maxHeapBytes", Runtime.getRuntime().maxMemory());
        int bits = preferredVectorBits();
        if (bits > 0) {
            machine.put("vectorBits", bits);
        } else {
            machine.putNull("vectorBits");
        }
        root.put("finished", java.time.Instant.now().toString());
        ObjectNode set = root.putObject("settings");
        set.put("secondsPerCell", settings.seconds());
        set.put("windows", settings.windows());
        set.put("leastWarmupSeconds", settings.warmup());
        set.put("includeSlow", settings.includeSlow());
        ArrayNode bs = set.putArray("backends");
        settings.backends().forEach(bs::add);
        ArrayNode ts = set.putArray("threads");
        settings.threads().forEach(ts::add);
        ArrayNode ws = set.putArray("workloads");
        settings.workloads().forEach(w -> ws.add(w.id()));
        ArrayNode ms = root.putArray("measurements");
        List<BenchRunner.Column> cols = settings.columns();
        for (List<Measurement> row : rows(cols, results)) {
            for (Measurement m : row) {
                ObjectNode n = ms.addObject();
                n.put("workload", m.workload().id());
                n.put("title", m.workload().title());
                n.put("unit", m.workload().unit());
                n.put("workPerOp", m.workload().workPerOp());
                n.put("backend", m.backend());
                n.put("threads", m.threads());
                n.put("description", m.description());
                n.put("status", m.status().name().toLowerCase(Locale.ROOT));
                if (m.ok()) {
                    n.put("warmupSeconds", m.warmup());
                    n.put("median", m.median());
                    n.put("min", m.min());
                    n.put("max", m.max());
                    double r = ratio(m, row.get(0));
                    if (Double.isNaN(r)) {
                        n.putNull("ratioToFirst"); // the first column was not measured
                    } else {
                        n.put("ratioToFirst", r);
                    }
                    ArrayNode win = n.putArray("windows");
                    for (Measurement.Window w : m.windows()) {
                        win.addObject().put("ops", w.ops()).put("seconds", w.seconds()).put("rate", w.rate());
                    }
                } else {
                    n.put("reason", m.reason());
                }
            }
        }
        return root;
    }

    /** @return the preferred FloatVector width in bits, or 0 when jdk.incubator.vector is not loaded */
    static int preferredVectorBits() {
        // by reflection: this module compiles without the incubator module
        try {
            Class<?> fv = Class.forName("jdk.incubator.vector.FloatVector");
            Object species = fv.getField("SPECIES_PREFERRED").get(null);
            // through the public interface: the species' own class is not accessible
            return (Integer) Class.forName("jdk.incubator.vector.VectorSpecies").getMethod("vectorBitSize").invoke(species);
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            return 0;
        }
    }

    /** @return whether a chart was written: one with no bars cannot be drawn */
    private static boolean chart(Path file, List<BenchRunner.Column> cols, List<Measurement> results) throws IOException {
        System.setProperty("java.awt.headless", "true");
        List<List<Measurement>> rows = rows(cols, results);
        CategoryChart chart = new CategoryChartBuilder().width(1000).height(520)
                .title("ttrec bench: " + Provenance.cpuModel() + ", " + Runtime.getRuntime().availableProcessors() + " cores")
                .xAxisTitle("workload").yAxisTitle("median rate / " + cols.get(0).label() + " (higher is faster)").build();
        chart.getStyler().setLegendVisible(true);
        chart.getStyler().setXAxisLabelRotation(20); // level names like bgemm-2x32x64 run into each other
        List<String> names = rows.stream().map(r -> r.get(0).workload().id()).toList();
        int series = 0;
        for (int j = 0; j < cols.size(); j++) {
            List<Double> y = new ArrayList<>();
            for (List<Measurement> row : rows) {
                // a row whose first column was not measured is normalised to its first measured column
                Measurement ref = row.stream().filter(Measurement::ok).findFirst().orElse(null);
                double r = ref == null ? Double.NaN : ratio(row.get(j), ref);
                y.add(Double.isNaN(r) ? null : r); // null: no bar (skipped or failed)
            }
            if (y.stream().anyMatch(v -> v != null)) { // xchart cannot scale a series of no bars
                chart.addSeries(cols.get(j).label(), names, y);
                series++;
            }
        }
        if (series == 0) {
            return false;
        }
        AtomicFiles.write(file, out -> BitmapEncoder.saveBitmap(chart, out, BitmapEncoder.BitmapFormat.PNG));
        return true;
    }
}
