package org.ttrec.dlrm.bench;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The table's numbers, ratios and notes on fixed measurements, and the option parsers; nothing is timed. */
class BenchReportTest {
    private static final BenchRunner.Column CPU1 = new BenchRunner.Column("cpu", 1);
    private static final BenchRunner.Column CPU2 = new BenchRunner.Column("cpu", 2);
    private static final BenchRunner.Column SCALAR2 = new BenchRunner.Column("scalar", 2);

    /** A measured cell whose windows have these rates. */
    private static Measurement cell(Workload w, BenchRunner.Column c, double... rates) {
        List<Measurement.Window> ws = java.util.Arrays.stream(rates).mapToObj(r -> new Measurement.Window(1, 1, r)).toList();
        return new Measurement(w, c.backend(), c.threads(), c.label() + " backend", Measurement.Status.OK, "", 1, ws);
    }

    private static Measurement skipped(Workload w, BenchRunner.Column c, String why) {
        return Measurement.notRun(w, c.backend(), c.threads(), Measurement.Status.SKIPPED, why);
    }

    @Test
    void medianIsTheMiddleWindowOrTheMeanOfTheMiddleTwo() {
        Measurement odd = cell(Workload.SGEMM, CPU1, 5, 1, 3);
        assertEquals(3, odd.median());
        assertEquals(1, odd.min());
        assertEquals(5, odd.max());
        assertEquals(2.5, cell(Workload.SGEMM, CPU1, 4, 1, 2, 3).median());
        assertTrue(Double.isNaN(skipped(Workload.SGEMM, CPU1, "x").median()));
    }

    @Test
    void ratioColumnDividesEachMedianByTheFirstColumns() {
        List<BenchRunner.Column> cols = List.of(CPU1, CPU2);
        String t = BenchReport.table(cols, List.of(
                cell(Workload.SGEMM, CPU1, 9, 10, 11), cell(Workload.SGEMM, CPU2, 24, 25, 26),
                cell(Workload.TT2K, CPU1, 2e6, 2e6, 2e6), cell(Workload.TT2K, CPU2, 1.5e6, 1.4e6, 1.6e6)));
        List<String> lines = t.lines().toList();
        assertTrue(lines.get(0).endsWith("cpu x2 / cpu x1"), lines.get(0));
        assertTrue(lines.get(1).startsWith("sgemm"), lines.get(1));
        assertTrue(lines.get(1).contains("10.0 [9.00-11.0]"), lines.get(1));
        assertTrue(lines.get(1).endsWith("2.50x"), lines.get(1));
        assertTrue(lines.get(2).contains("2.00M [2.00M-2.00M]"), lines.get(2));
        assertTrue(lines.get(2).endsWith("0.75x"), lines.get(2));
        // aligned: every line of the table proper is as wide as the header
        assertEquals(lines.get(0).length(), lines.get(1).length());
        assertEquals(lines.get(0).length(), lines.get(2).length());
        assertEquals(2.5, BenchReport.ratio(cell(Workload.SGEMM, CPU2, 25), cell(Workload.SGEMM, CPU1, 10)));
    }

    @Test
    void skippedCellsPointToOneNotePerReasonAndEmptyRatioColumnsAreLeftOut() {
        List<BenchRunner.Column> cols = List.of(CPU1, CPU2, SCALAR2);
        String t = BenchReport.table(cols, List.of(
                cell(Workload.TT2K, CPU1, 100), skipped(Workload.TT2K, CPU2, "no second core"),
                skipped(Workload.TT2K, SCALAR2, "scalar runs 1 thread"),
                cell(Workload.BAG, CPU1, 100), cell(Workload.BAG, CPU2, 150),
                skipped(Workload.BAG, SCALAR2, "scalar runs 1 thread")));
        List<String> lines = t.lines().toList();
        assertTrue(lines.get(0).contains("cpu x2 / cpu x1"), lines.get(0));
        assertFalse(lines.get(0).contains("scalar x2 /"), "a ratio column with no number: " + lines.get(0));
        assertTrue(lines.get(1).contains("skipped (a)") && lines.get(1).contains("skipped (b)"), lines.get(1));
        assertTrue(lines.get(1).endsWith("-"), "no ratio where the cell was skipped: " + lines.get(1));
        assertTrue(lines.get(2).endsWith("1.50x"), lines.get(2));
        assertTrue(lines.get(2).contains("skipped (b)"), "the same reason shares its note: " + lines.get(2));
        assertTrue(t.contains("(a) skipped: no second core\n"), t);
        assertTrue(t.contains("(b) skipped: scalar runs 1 thread\n"), t);
        assertEquals(1, t.split("\\(b\\) skipped", -1).length - 1, t);
    }

    @Test
    void rowsMustMatchTheColumns() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BenchReport.table(List.of(CPU1, CPU2),
                List.of(cell(Workload.SGEMM, CPU2, 1), cell(Workload.SGEMM, CPU1, 1))));
        assertTrue(e.getMessage().contains("sgemm on cpu x1"), e.getMessage());
    }

    @Test
    void siKeepsThreeSignificantDigits() {
        assertEquals("45.1", BenchReport.si(45.123));
        assertEquals("3.21M", BenchReport.si(3_214_000));
        assertEquals("12.3k", BenchReport.si(12_345));
        assertEquals("1.00k", BenchReport.si(999.96));
        assertEquals("123", BenchReport.si(123.4));
        assertEquals("0.220", BenchReport.si(0.22));
        assertEquals("-", BenchReport.si(Double.NaN));
    }

    @Test
    void parsersNameTheBadEntry() {
        assertEquals(List.of(Workload.BGEMM_2X32X64, Workload.BGEMM_4X32X4, Workload.TT2K), Workload.parse("bgemm, tt2k,bgemm"));
        assertEquals(List.of(Workload.values()), Workload.parse("all"));
        IllegalArgumentException w = assertThrows(IllegalArgumentException.class, () -> Workload.parse("tt2k,ttx"));
        assertTrue(w.getMessage().startsWith("--workloads: unknown workload 'ttx'"), w.getMessage());
        assertEquals(List.of(2, 1), BenchRunner.parseThreads("2, 1,2"));
        for (String bad : new String[] {"1,0", "1,x", "", "1,,2", "-1"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BenchRunner.parseThreads(bad), bad);
            assertTrue(e.getMessage().startsWith("--threads"), e.getMessage());
        }
        IllegalArgumentException b = assertThrows(IllegalArgumentException.class, () -> BenchRunner.parseBackends("cpu,gpu9"));
        assertTrue(b.getMessage().startsWith("--backends: unknown backend 'gpu9'"), b.getMessage());
        assertEquals(List.of("scalar", "cpu"), BenchRunner.parseBackends("scalar,cpu,scalar"));
    }
}
