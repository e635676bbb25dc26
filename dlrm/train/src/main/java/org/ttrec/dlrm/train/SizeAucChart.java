package org.ttrec.dlrm.train;

import org.knowm.xchart.AnnotationLine;
import org.knowm.xchart.AnnotationText;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.lines.SeriesLines;
import org.knowm.xchart.style.markers.SeriesMarkers;
import org.ttrec.dlrm.io.AtomicFiles;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * A PNG chart of model quality against model size (xchart, headless), written atomically: x is
 * the size in MB on a log scale, y the test AUC. Each series is a line through its points in
 * order of size, each point labelled (e.g. with its TT rank) and, where it is a mean over
 * several runs, drawn with a vertical bar from the lowest to the highest value. A reference model
 * is drawn as a dashed horizontal line across the whole plot at its AUC, plus a point at its size.
 */
public final class SizeAucChart {
    private SizeAucChart() {}

    /**
     * One model on the chart.
     *
     * @param megabytes its size in MB (10^6 bytes), > 0
     * @param auc       the AUC drawn (the mean, for several runs); NaN points are left out
     * @param aucMin    the lowest AUC of its runs (the bar's bottom; = auc for one run)
     * @param aucMax    the highest AUC of its runs (the bar's top; = auc for one run)
     * @param label     text written next to the point, e.g. "r16"
     */
    public record Point(double megabytes, double auc, double aucMin, double aucMax, String label) {}

    /**
     * The model the others are measured against.
     *
     * @param name      legend text
     * @param megabytes its size in MB
     * @param auc       the AUC at which the horizontal line is drawn
     */
    public record Reference(String name, double megabytes, double auc) {}

    /**
     * Writes the chart.
     *
     * @param file      target PNG
     * @param title     chart title
     * @param series    legend name -> points (in any order); series without a finite point are left out
     * @param reference the horizontal line, or null for none
     * @return whether a chart was written: one with no finite point cannot be scaled, so none is
     * @throws IOException if writing fails
     */
    public static boolean write(Path file, String title, Map<String, List<Point>> series, Reference reference)
            throws IOException {
        System.setProperty("java.awt.headless", "true");
        XYChart chart = new XYChartBuilder().width(960).height(560).title(title)
                .xAxisTitle("model size (MB, log scale)").yAxisTitle("test AUC").build();
        var st = chart.getStyler();
        st.setXAxisLogarithmic(true);
        st.setLegendVisible(true);
        // below the plot, so the long series names do not narrow the axes
        st.setLegendPosition(Styler.LegendPosition.OutsideS);
        st.setLegendLayout(Styler.LegendLayout.Horizontal);
        st.setXAxisDecimalPattern("0.###");
        st.setYAxisDecimalPattern("0.0000");
        Color[] palette = st.getSeriesColors();
        List<Point> all = new ArrayList<>();
        series.values().forEach(pts -> pts.stream().filter(SizeAucChart::drawable).forEach(all::add));
        boolean ref = reference != null && reference.megabytes() > 0 && Double.isFinite(reference.auc());
        if (all.isEmpty() && !ref) {
            return false;
        }
        // labels sit a little above their point: a fraction of the AUC range, as xchart offers no pixel offset
        double lo = ref ? reference.auc() : Double.POSITIVE_INFINITY, hi = ref ? reference.auc() : Double.NEGATIVE_INFINITY;
        for (Point p : all) {
            lo = Math.min(lo, p.aucMin());
            hi = Math.max(hi, p.aucMax());
        }
        double lift = hi > lo ? 0.03 * (hi - lo) : 0.001;
        int colour = 0;
        for (Map.Entry<String, List<Point>> e : series.entrySet()) {
            List<Point> pts = e.getValue().stream().filter(SizeAucChart::drawable)
                    .sorted(Comparator.comparingDouble(Point::megabytes)).toList();
            if (pts.isEmpty()) {
                continue;
            }
            Color c = palette[colour++ % palette.length];
            XYSeries s = chart.addSeries(e.getKey(), pts.stream().mapToDouble(Point::megabytes).toArray(),
                    pts.stream().mapToDouble(Point::auc).toArray());
            s.setMarker(SeriesMarkers.CIRCLE);
            s.setMarkerColor(c);
            s.setLineColor(c);
            for (int i = 0; i < pts.size(); i++) {
                Point p = pts.get(i);
                if (p.aucMax() > p.aucMin()) {
                    // xchart's error bars are symmetric; the spread over seeds need not be, so each bar is a series
                    XYSeries bar = chart.addSeries(e.getKey() + " range " + i, new double[] {p.megabytes(), p.megabytes()},
                            new double[] {p.aucMin(), p.aucMax()});
                    bar.setMarker(SeriesMarkers.NONE);
                    bar.setLineColor(c);
                    bar.setShowInLegend(false);
                }
                if (p.label() != null && !p.label().isEmpty()) {
                    chart.addAnnotation(new AnnotationText(p.label(), p.megabytes(), p.auc() + lift, false));
                }
            }
        }
        if (ref) {
            Color grey = Color.DARK_GRAY;
            // the point puts the reference's size and AUC inside the axes and gives the line its legend entry
            XYSeries s = chart.addSeries(reference.name(), new double[] {reference.megabytes()}, new double[] {reference.auc()});
            s.setMarker(SeriesMarkers.DIAMOND);
            s.setMarkerColor(grey);
            s.setLineStyle(SeriesLines.NONE);
            chart.addAnnotation(new AnnotationLine(reference.auc(), false, false));
            st.setAnnotationLineColor(grey);
            st.setAnnotationLineStroke(new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f,
                    new float[] {6f, 4f}, 0f));
        }
        AtomicFiles.write(file, out -> BitmapEncoder.saveBitmap(chart, out, BitmapEncoder.BitmapFormat.PNG));
        return true;
    }

    private static boolean drawable(Point p) {
        return p.megabytes() > 0 && Double.isFinite(p.auc()) && Double.isFinite(p.aucMin()) && Double.isFinite(p.aucMax());
    }
}
