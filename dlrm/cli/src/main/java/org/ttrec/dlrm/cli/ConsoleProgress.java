package org.ttrec.dlrm.cli;

import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.ttrec.dlrm.data.Progress;

/** The data layer's {@link Progress} as a bar on stderr: MiB, MiB/s, ETA, rows and rows/s. */
final class ConsoleProgress implements Progress {
    /** Bars on stderr, one per task. */
    static final Progress.Factory FACTORY = ConsoleProgress::new;

    private final ProgressBar bar;
    private final long startNanos = System.nanoTime();

    private ConsoleProgress(String task, long totalBytes) {
        this.bar = new ProgressBarBuilder().setTaskName(task).setInitialMax(Math.max(1, totalBytes))
                .setUnit(" MiB", 1 << 20).showSpeed().setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(500)
                .setConsumer(new ConsoleProgressBarConsumer(System.err)).build();
    }

    /**
     * @param show whether to draw bars (the {@code --no-progress} flag turns them off)
     * @return bars on stderr, or nothing
     */
    static Progress.Factory factory(boolean show) {
        return show ? FACTORY : Progress.Factory.NONE;
    }

    @Override
    public void update(long bytes, long rows) {
        bar.stepTo(bytes);
        double s = Math.max(1e-9, (System.nanoTime() - startNanos) / 1e9);
        bar.setExtraMessage(String.format("%,d rows, %,.0f rows/s", rows, rows / s));
    }

    @Override
    public void close() {
        bar.close();
    }
}
