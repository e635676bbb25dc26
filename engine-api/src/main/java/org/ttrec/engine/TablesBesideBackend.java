package org.ttrec.engine;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.IntConsumer;

/**
 * Host backends that run a model's embedding tables beside its MLP: every call goes to
 * {@code main}, except the table work of {@link #submitTables}, which runs on a thread of its own
 * on {@code tables} (a backend of its own threads, sharing host memory) while the caller goes on.
 * Table work runs in the order it was submitted, so a step's lookups follow the last step's
 * update, and each backend is deterministic: results do not depend on how the two sides
 * interleave. {@link #tableBackend()} is {@code tables}: create the tables there.
 */
public final class TablesBesideBackend extends ForwardingBackend {
    private final ComputeBackend tables;
    private final ExecutorService stage;

    /**
     * @param main   backend of everything but the tables
     * @param tables backend of the tables; host memory shared with {@code main} (the tables write
     *               into activation buffers {@code main} allocated)
     */
    public TablesBesideBackend(ComputeBackend main, ComputeBackend tables) {
        super(main);
        Checks.notNull("table backend", tables);
        this.tables = tables;
        this.stage = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "ttrec-embeddings");
            t.setDaemon(true);
            return t;
        });
    }

    @Override
    public String description() {
        return delegate.description() + "; tables beside it on " + tables.description();
    }

    @Override
    public ComputeBackend tableBackend() {
        return tables;
    }

    @Override
    public Pending submitTables(int n, IntConsumer task) {
        Future<?> f = stage.submit(() -> tables.submitTables(n, task).await());
        return () -> join(f);
    }

    /** Waits for table work; rethrows its failure on the caller's thread. */
    private static void join(Future<?> f) {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    f.get();
                    return;
                } catch (InterruptedException e) {
                    interrupted = true; // the tables are mid-update: finish them before giving up
                }
            }
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof RuntimeException re) {
                throw re;
            }
            if (c instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException("embedding tables failed", c);
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Waits for submitted table work, stops the table thread and closes both backends. */
    @Override
    public void close() {
        try {
            join(stage.submit(() -> { }));
        } finally {
            stage.shutdown();
            try {
                tables.close();
            } finally {
                delegate.close();
            }
        }
    }
}
