package org.ttrec.engine;

/**
 * Argument checks shared by every backend, so that bad shapes fail with the same clear message
 * everywhere, before any kernel runs. Sizes are checked in long arithmetic so that huge values
 * cannot overflow into a false pass.
 */
public final class Checks {
    private Checks() {}

    /** Throws unless {@code value >= 0}. */
    public static void nonNegative(String what, int value) {
        if (value < 0) {
            throw new IllegalArgumentException(what + " must be >= 0, got " + value);
        }
    }

    /** Throws unless {@code value >= 1}. */
    public static void positive(String what, int value) {
        if (value < 1) {
            throw new IllegalArgumentException(what + " must be >= 1, got " + value);
        }
    }

    /**
     * Checks that {@code [off, off + n)} lies inside a buffer of {@code length} elements.
     */
    public static void region(String name, int length, int off, long n) {
        if (n < 0) {
            throw new IllegalArgumentException(name + ": size must be >= 0, got " + n);
        }
        if (off < 0) {
            throw new IllegalArgumentException(name + ": offset must be >= 0, got " + off);
        }
        if (n > 0 && off + n > length) {
            throw new IllegalArgumentException(name + ": needs elements [" + off + ", " + (off + n)
                    + ") but the buffer has " + length);
        }
    }

    /** {@link #region(String, int, int, long)} for a float buffer. */
    public static void region(String name, FloatBuf b, int off, long n) {
        notNull(name, b);
        region(name, b.length(), off, n);
    }

    /** {@link #region(String, int, int, long)} for an int buffer. */
    public static void region(String name, IntBuf b, int off, long n) {
        notNull(name, b);
        region(name, b.length(), off, n);
    }

    /** Throws if {@code o} is null. */
    public static void notNull(String name, Object o) {
        if (o == null) {
            throw new IllegalArgumentException(name + " is null");
        }
    }

    // The overloads below take a name in two parts and join them only for a message: checks run
    // on every kernel call, and a name built up front (a string concatenation per check) cost a
    // few percent of a batch-128 training step (JFR) for messages never shown.

    /** {@link #nonNegative(String, int)} for the name {@code prefix + what}. */
    public static void nonNegative(String prefix, String what, int value) {
        if (value < 0) {
            nonNegative(prefix + what, value);
        }
    }

    /** {@link #notNull(String, Object)} for the name {@code prefix + what}. */
    public static void notNull(String prefix, String what, Object o) {
        if (o == null) {
            notNull(prefix + what, o);
        }
    }

    /** {@link #region(String, int, int, long)} for the name {@code prefix + what}. */
    public static void region(String prefix, String what, int length, int off, long n) {
        if (n < 0 || off < 0 || (n > 0 && off + n > length)) {
            region(prefix + what, length, off, n);
        }
    }

    /** {@link #region(String, FloatBuf, int, long)} for the name {@code prefix + what}. */
    public static void region(String prefix, String what, FloatBuf b, int off, long n) {
        notNull(prefix, what, b);
        region(prefix, what, b.length(), off, n);
    }

    /** {@link #region(String, IntBuf, int, long)} for the name {@code prefix + what}. */
    public static void region(String prefix, String what, IntBuf b, int off, long n) {
        notNull(prefix, what, b);
        region(prefix, what, b.length(), off, n);
    }

    /** {@link #matrix(String, FloatBuf, int, int, int, int)} for the name {@code prefix + what}. */
    public static void matrix(String prefix, String what, FloatBuf b, int off, int rows, int cols, int ld) {
        if (!fits(b, off, rows, cols, ld)) {
            matrix(prefix + what, b, off, rows, cols, ld);
        }
    }

    /** Whether {@link #matrix} passes, without building a message. */
    public static boolean fits(FloatBuf b, int off, int rows, int cols, int ld) {
        if (b == null || rows < 0 || cols < 0 || off < 0) {
            return false;
        }
        if (rows == 0 || cols == 0) {
            return true; // an empty matrix needs only an offset >= 0, as matrix's region(..., 0) checks
        }
        return ld >= cols && off + ((long) (rows - 1) * ld + cols) <= b.length();
    }

    /**
     * Checks a row-major rows x cols matrix at {@code off} with leading dimension {@code ld}.
     */
    public static void matrix(String name, FloatBuf b, int off, int rows, int cols, int ld) {
        if (fits(b, off, rows, cols, ld)) {
            return;
        }
        notNull(name, b);
        nonNegative(name + " rows", rows);
        nonNegative(name + " cols", cols);
        if (rows > 0 && cols > 0 && ld < cols) {
            throw new IllegalArgumentException(name + ": leading dimension " + ld + " < columns " + cols
                    + " (" + rows + " x " + cols + ")");
        }
        if (rows == 0 || cols == 0) {
            region(name, b.length(), off, 0);
            return;
        }
        long last = (long) (rows - 1) * ld + cols;
        if (off < 0 || off + last > b.length()) {
            throw new IllegalArgumentException(name + ": a " + rows + " x " + cols + " matrix with leading dimension "
                    + ld + " at offset " + off + " needs " + (off + last) + " elements but the buffer has " + b.length());
        }
    }

    /**
     * Checks the operands of {@link ComputeBackend#gemm}.
     */
    public static void gemm(boolean transA, boolean transB, int m, int n, int k,
                            FloatBuf a, int aOff, int lda, FloatBuf b, int bOff, int ldb,
                            FloatBuf c, int cOff, int ldc) {
        nonNegative("gemm m", m);
        nonNegative("gemm n", n);
        nonNegative("gemm k", k);
        if (transA ? fits(a, aOff, k, m, lda) : fits(a, aOff, m, k, lda)) {
            if (transB ? fits(b, bOff, n, k, ldb) : fits(b, bOff, k, n, ldb)) {
                if (fits(c, cOff, m, n, ldc)) {
                    return; // the names below, with their sizes, are built only for a message
                }
            }
        }
        if (transA) {
            matrix("gemm A (transposed, k x m = " + k + " x " + m + ")", a, aOff, k, m, lda);
        } else {
            matrix("gemm A (m x k = " + m + " x " + k + ")", a, aOff, m, k, lda);
        }
        if (transB) {
            matrix("gemm B (transposed, n x k = " + n + " x " + k + ")", b, bOff, n, k, ldb);
        } else {
            matrix("gemm B (k x n = " + k + " x " + n + ")", b, bOff, k, n, ldb);
        }
        matrix("gemm C (m x n = " + m + " x " + n + ")", c, cOff, m, n, ldc);
    }

    /**
     * Checks the operands of {@link ComputeBackend#gemmStridedBatched}: the first and the last
     * matrix of each operand must fit.
     */
    public static void gemmStrided(boolean transA, boolean transB, int m, int n, int k,
                                   FloatBuf a, int aOff, int lda, int strideA,
                                   FloatBuf b, int bOff, int ldb, int strideB,
                                   FloatBuf c, int cOff, int ldc, int strideC, int batch) {
        nonNegative("gemm batch", batch);
        nonNegative("gemm strideA", strideA);
        nonNegative("gemm strideB", strideB);
        nonNegative("gemm strideC", strideC);
        if (batch > 1 && strideC == 0 && m > 0 && n > 0) {
            throw new IllegalArgumentException("gemm strideC is 0 with batch " + batch + ": the products would overwrite each other");
        }
        gemm(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
        if (batch > 1) {
            long lastA = aOff + (long) (batch - 1) * strideA;
            long lastB = bOff + (long) (batch - 1) * strideB;
            long lastC = cOff + (long) (batch - 1) * strideC;
            if (lastA > Integer.MAX_VALUE || lastB > Integer.MAX_VALUE || lastC > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("gemm batch " + batch + " with these strides runs past any buffer");
            }
            gemm(transA, transB, m, n, k, a, (int) lastA, lda, b, (int) lastB, ldb, c, (int) lastC, ldc);
        }
    }

    /**
     * Checks one batch of lookups into a table of {@code rows} rows, as {@link LookupPlan#set}
     * takes it: indices and offsets present, offsets valid CSR ({@link #csr}), every looked-up
     * index in range, and per-sample weights (when given) covering every lookup.
     */
    public static void batch(String table, int rows, int[] indices, int[] offsets, int bags, float[] perSampleWeights) {
        notNull(table, ": indices", indices);
        notNull(table, ": offsets", offsets);
        csr(table, offsets, bags, indices.length);
        indices(table, indices, offsets[0], offsets[bags], rows);
        if (perSampleWeights != null && perSampleWeights.length < offsets[bags]) {
            throw new IllegalArgumentException(table + ": " + perSampleWeights.length + " per-sample weights for "
                    + offsets[bags] + " lookups");
        }
    }

    /**
     * Checks CSR bag offsets against the number of lookups: bags+1 entries, non-decreasing,
     * starting at >= 0 and ending at most at {@code indexCount}.
     */
    public static void csr(String table, int[] offsets, int bags, int indexCount) {
        nonNegative(table, ": bags", bags);
        if (offsets.length < bags + 1) {
            throw new IllegalArgumentException(table + ": offsets needs bags+1 = " + (bags + 1)
                    + " entries, has " + offsets.length);
        }
        if (offsets[0] < 0) {
            throw new IllegalArgumentException(table + ": offsets[0] = " + offsets[0] + " is negative");
        }
        for (int b = 0; b < bags; b++) {
            if (offsets[b + 1] < offsets[b]) {
                throw new IllegalArgumentException(table + ": offsets are not non-decreasing at bag " + b
                        + ": offsets[" + b + "] = " + offsets[b] + " > offsets[" + (b + 1) + "] = " + offsets[b + 1]);
            }
        }
        if (offsets[bags] > indexCount) {
            throw new IllegalArgumentException(table + ": offsets[" + bags + "] = " + offsets[bags]
                    + " is past the " + indexCount + " indices");
        }
    }

    /** Checks that every index in {@code [from, to)} lies in {@code [0, rows)}. */
    public static void indices(String table, int[] indices, int from, int to, int rows) {
        for (int j = from; j < to; j++) {
            int v = indices[j];
            if (v < 0 || v >= rows) {
                throw new IllegalArgumentException(table + ": index " + v + " at position " + j
                        + " is out of range [0, " + rows + ")");
            }
        }
    }

    /** Checks the TT cores (and optional states) against a shape. */
    public static void ttCores(TtShape shape, FloatBuf[] cores, FloatBuf[] states, SparseOptimizer opt) {
        notNull("TT shape", shape);
        notNull("TT cores", cores);
        int d = shape.cores();
        if (cores.length != d) {
            throw new IllegalArgumentException("TT: " + d + " cores expected for " + shape + ", got " + cores.length);
        }
        for (int k = 0; k < d; k++) {
            notNull("TT core " + k, cores[k]);
            if (cores[k].length() < shape.coreSize(k)) {
                throw new IllegalArgumentException("TT core " + k + " has " + cores[k].length() + " floats, needs "
                        + shape.coreSize(k) + " for " + shape);
            }
        }
        if (opt == null || opt.kind() == SparseOptimizer.Kind.SGD) {
            return;
        }
        if (states == null || states.length != d) {
            throw new IllegalArgumentException("TT: optimiser " + opt.kind() + " needs " + d + " state buffers");
        }
        for (int k = 0; k < d; k++) {
            long need = opt.kind() == SparseOptimizer.Kind.ROWWISE_ADAGRAD
                    ? (long) shape.p(k) * shape.rank(k) : shape.coreSize(k);
            notNull("TT state " + k, states[k]);
            if (states[k].length() < need) {
                throw new IllegalArgumentException("TT state " + k + " has " + states[k].length() + " floats, "
                        + opt.kind() + " needs " + need);
            }
        }
    }

    /** Checks the optimiser state of an uncompressed table. */
    public static void embeddingState(int rows, int dim, FloatBuf state, SparseOptimizer opt) {
        notNull("optimizer", opt);
        long need = switch (opt.kind()) {
            case SGD -> 0;
            case ROWWISE_ADAGRAD -> rows;
            case ADAGRAD, ACCUMULATE -> (long) rows * dim;
        };
        if (need > 0) {
            if (state == null) {
                notNull("optimizer state (" + opt.kind() + ")", state);
            }
            if (state.length() < need) {
                throw new IllegalArgumentException("optimizer state has " + state.length() + " floats, "
                        + opt.kind() + " needs " + need + " for a " + rows + " x " + dim + " table");
            }
        }
    }
}
