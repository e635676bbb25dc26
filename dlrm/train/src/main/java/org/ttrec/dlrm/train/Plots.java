package org.ttrec.dlrm.train;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.io.IOException;
import java.nio.file.Path;
import org.ttrec.dlrm.io.AtomicFiles;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** PNG line charts of metrics over training steps (xchart, headless), written atomically. */
public final class Plots {
    private Plots() {}

    /**
     * Writes one chart.
     *
     * @param file   target PNG
     * @param title  chart title
     * @param yTitle y axis title
     * @param series name -> (steps, values); series with no points are left out
     * @throws IOException if writing fails
     */
    public static void write(Path file, String title, String yTitle, Map<String, List<double[]>> series) throws IOException {
        System.setProperty("java.awt.headless", "true");
        XYChart chart = new XYChartBuilder().width(900).height(500).title(title).xAxisTitle("step").yAxisTitle(yTitle).build();
        chart.getStyler().setLegendVisible(true);
        int added = 0;
        for (Map.Entry<String, List<double[]>> e : new LinkedHashMap<>(series).entrySet()) {
            List<double[]> pts = e.getValue();
            if (pts.isEmpty()) {
                continue;
            }
            double[] x = new double[pts.size()];
            double[] y = new double[pts.size()];
            for (int i = 0; i < x.length; i++) {
                x[i] = pts.get(i)[0];
                y[i] = pts.get(i)[1];
            }
            var s = chart.addSeries(e.getKey(), x, y);
            s.setMarker(pts.size() > 50 ? SeriesMarkers.NONE : SeriesMarkers.CIRCLE);
            added++;
        }
        if (added == 0) {
            return;
        }
        AtomicFiles.write(file, out -> BitmapEncoder.saveBitmap(chart, out, BitmapEncoder.BitmapFormat.PNG));
    }
}
