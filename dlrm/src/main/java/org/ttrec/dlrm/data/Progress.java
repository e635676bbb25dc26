package org.ttrec.dlrm.data;

import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/** A progress bar on stderr (MiB, MiB/s, ETA, rows and rows/s), or nothing when disabled. */
final class Progress implements AutoCloseable {
    private final ProgressBar bar;
    private final long startNanos = System.nanoTime();

    Progress(boolean enabled, String task, long maxBytes) {
        this.bar = !enabled ? null : new ProgressBarBuilder().setTaskName(task).setInitialMax(Math.max(1, maxBytes))
                .setUnit(" MiB", 1 << 20).showSpeed().setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(500)
                .setConsumer(new ConsoleProgressBarConsumer(System.err)).build();
    }

    void update(long bytes, long rows) {
        if (bar == null) {
            return;
        }
        bar.stepTo(bytes);
        double s = Math.max(1e-9, (System.nanoTime() - startNanos) / 1e9);
        bar.setExtraMessage(String.format("%,d rows, %,.0f rows/s", rows, rows / s));
    }

    @Override
    public void close() {
        if (bar != null) {
            bar.close();
        }
    }
}
