package org.ttrec.engine.cpu;

import org.ttrec.engine.TtShape;

import java.lang.foreign.MemorySegment;
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The partial products P_0..P_{d-2} that a TT forward computed for one table, kept so the
 * backward on the same batch need not recompute them (about a third of the backward's work).
 *
 * <h2>Why reuse is exact</h2>
 * The kernels compute a block's P_k with a deterministic walk whose only inputs are the shape,
 * the sorted distinct rows of the batch, the fixed thread partition of the kernel instance and
 * the entries of the core slices G_k[i_k], k <= d-2, that those rows use (the last core never
 * enters a kept product). An entry therefore records, at the end of the forward, a copy of the
 * distinct rows and a bitwise copy of every such slice, and the backward reuses it only when its
 * own distinct rows are equal and every recorded slice still holds the same bits (compared
 * byte for byte, so a change of sign of zero or of a NaN payload counts). Array identity alone
 * would not do: callers may write into the cores between the two calls. Any mismatch falls back
 * to recomputation, so reuse changes speed, never results. The backward's optimiser changes the
 * cores, so an entry is dropped once used.
 *
 * <p>The snapshot costs one copy (forward) and one compare (backward) of the touched slices,
 * far less than the products it saves. Entries are kept only for tables that have already run a
 * backward on this kernel instance, so inference-only forwards pay nothing.
 */
final class ForwardCache {
    private final WeakReference<float[]>[] coreRefs;
    private final TtShape shape;
    /** Blocks (of the kernels' block size) whose products are kept, from the first. */
    int blocks;
    /** [block][level]: P_k of the groups opened in that block, as the forward wrote them. */
    float[][][] pv = new float[0][][];
    private boolean valid;
    private int[] rows = new int[0];
    private int distinct;
    private int[][] snapDigits;
    private int[] snapCount;
    private float[][] snap;
    private long lastUse;
    private long bytes;
    /**
     * The cores' owner promised that they change only through the backward (see
     * {@code ComputeBackend.ttOwnCores}): no snapshot, only the distinct rows are compared.
     */
    private boolean trusted;

    @SuppressWarnings({"unchecked", "rawtypes"})
    private ForwardCache(float[][] cores, TtShape shape) {
        coreRefs = new WeakReference[cores.length];
        for (int k = 0; k < cores.length; k++) {
            coreRefs[k] = new WeakReference<>(cores[k]);
        }
        this.shape = shape;
        int d = shape.cores();
        snapDigits = new int[d][];
        snapCount = new int[d];
        snap = new float[d][];
    }

    private boolean sameTable(float[][] cores, TtShape s) {
        if (cores.length != coreRefs.length || !shape.equals(s)) {
            return false;
        }
        for (int k = 0; k < cores.length; k++) {
            if (coreRefs[k].get() != cores[k]) {
                return false;
            }
        }
        return true;
    }

    private boolean stale() {
        for (WeakReference<float[]> r : coreRefs) {
            if (r.get() == null) {
                return true;
            }
        }
        return false;
    }

    /** Block b's product arrays, grown to {@code rows} rows. */
    float[][] blockPv(int b, int rowsInBlock, int[] msz, int d) {
        if (pv.length <= b) {
            pv = Arrays.copyOf(pv, b + 1);
        }
        if (pv[b] == null) {
            pv[b] = new float[d][];
        }
        for (int k = 1; k < d - 1; k++) { // P_0 is read from core 0 in place
            long need = (long) rowsInBlock * msz[k];
            if (pv[b][k] == null || pv[b][k].length < need) {
                bytes += 4L * (need - (pv[b][k] == null ? 0 : pv[b][k].length));
                pv[b][k] = new float[(int) need];
            }
        }
        return pv[b];
    }

    /** End of a forward: remember its distinct rows and the bits of every core slice its products read. */
    void record(float[][] cores, TtShape s, int[] uRow, int n, int[] msz) {
        int d = s.cores();
        if (rows.length < n) {
            bytes += 4L * (n - rows.length);
            rows = new int[n];
        }
        System.arraycopy(uRow, 0, rows, 0, n);
        distinct = n;
        for (int k = 0; k < d - 1 && !trusted; k++) {
            long below = 1;
            for (int j = k + 1; j < d; j++) {
                below *= s.p(j);
            }
            int pk = s.p(k);
            boolean[] used = new boolean[pk];
            for (int u = 0; u < n; u++) {
                used[(int) ((uRow[u] / below) % pk)] = true;
            }
            int cnt = 0;
            for (int i = 0; i < pk; i++) {
                if (used[i]) {
                    cnt++;
                }
            }
            int ss = s.sliceSize(k);
            if (snapDigits[k] == null || snapDigits[k].length < cnt) {
                snapDigits[k] = new int[cnt];
            }
            if (snap[k] == null || snap[k].length < (long) cnt * ss) {
                bytes += 4L * ((long) cnt * ss - (snap[k] == null ? 0 : snap[k].length));
                snap[k] = new float[cnt * ss];
            }
            int c = 0;
            for (int i = 0; i < pk; i++) {
                if (used[i]) {
                    snapDigits[k][c] = i;
                    System.arraycopy(cores[k], i * ss, snap[k], c * ss, ss);
                    c++;
                }
            }
            snapCount[k] = cnt;
        }
        valid = true;
    }

    /** True when the recorded forward ran on these distinct rows and bitwise these core slices. */
    boolean matches(float[][] cores, int[] uRow, int n) {
        if (!valid || n != distinct || !Arrays.equals(rows, 0, n, uRow, 0, n)) {
            return false;
        }
        for (int k = 0; k < shape.cores() - 1 && !trusted; k++) {
            int ss = shape.sliceSize(k);
            MemorySegment now = MemorySegment.ofArray(cores[k]);
            MemorySegment then = MemorySegment.ofArray(snap[k]);
            for (int c = 0; c < snapCount[k]; c++) {
                long a = 4L * snapDigits[k][c] * ss, b = 4L * c * ss, len = 4L * ss;
                if (MemorySegment.mismatch(now, a, a + len, then, b, b + len) != -1) {
                    return false;
                }
            }
        }
        return true;
    }

    void invalidate() {
        valid = false;
    }

    /** The entries of one kernel instance, within a byte budget (least recently used go first). */
    static final class Registry {
        private static final int MAX_ENTRIES = 64;
        private final long budget;
        private final double minFlopsPerByte;
        private final List<ForwardCache> entries = new ArrayList<>();
        /** Core arrays whose owner made the promise of {@code ComputeBackend.ttOwnCores} (weakly held). */
        private final List<WeakReference<float[]>> owned = new ArrayList<>();
        private long clock;

        /** The owner of these cores promises they change only through the backward (or tells {@link #changed}). */
        void own(float[][] cores) {
            owned.removeIf(r -> r.get() == null);
            for (float[] c : cores) {
                if (!isOwned(c)) {
                    owned.add(new WeakReference<>(c));
                }
            }
            for (ForwardCache e : entries) {
                e.trusted = e.trusted || allOwned(e.coreRefs);
            }
        }

        /** These cores were written behind the kernels' back: drop what was kept for them. */
        void changed(float[][] cores) {
            for (ForwardCache e : entries) {
                for (WeakReference<float[]> r : e.coreRefs) {
                    for (float[] c : cores) {
                        if (r.get() == c) {
                            e.valid = false;
                        }
                    }
                }
            }
        }

        private boolean isOwned(float[] c) {
            for (WeakReference<float[]> r : owned) {
                if (r.get() == c) {
                    return true;
                }
            }
            return false;
        }

        private boolean allOwned(WeakReference<float[]>[] refs) {
            for (WeakReference<float[]> r : refs) {
                float[] c = r.get();
                if (c == null || !isOwned(c)) {
                    return false;
                }
            }
            return true;
        }

        private ForwardCache create(float[][] cores, TtShape s) {
            if (entries.size() >= MAX_ENTRIES) {
                ForwardCache lru = entries.get(0);
                for (ForwardCache o : entries) {
                    if (o.lastUse < lru.lastUse) {
                        lru = o;
                    }
                }
                entries.remove(lru);
            }
            ForwardCache e = new ForwardCache(cores, s);
            e.trusted = allOwned(e.coreRefs);
            e.lastUse = ++clock;
            entries.add(e);
            return e;
        }

        /**
         * @param budget          bytes all entries may hold together (0 disables reuse)
         * @param minFlopsPerByte reuse only when the saved products cost at least this many flops
         *                        per byte of core slices to snapshot and compare: both are memory
         *                        bound, so for narrow ranks with few rows per slice (D = 16,
         *                        R = 32, 2048 single lookups: ~9 flops/byte) checking costs more
         *                        than recomputing
         */
        Registry(long budget, double minFlopsPerByte) {
            this.budget = budget;
            this.minFlopsPerByte = minFlopsPerByte;
        }

        private ForwardCache find(float[][] cores, TtShape s) {
            entries.removeIf(ForwardCache::stale);
            for (ForwardCache e : entries) {
                if (e.sameTable(cores, s)) {
                    e.lastUse = ++clock;
                    return e;
                }
            }
            return null;
        }

        /**
         * A forward starts: the entry to fill (its {@link #blocks} set to what the budget allows),
         * or null when this table has not run a backward yet or nothing fits.
         */
        ForwardCache forForward(float[][] cores, TtShape s, int distinct, int block) {
            if (budget <= 0 || distinct == 0) {
                return null;
            }
            ForwardCache e = find(cores, s);
            if (e == null) {
                if (!Arrays.stream(cores).allMatch(this::isOwned)) {
                    return null; // not owned: registered by its first backward, as below
                }
                e = create(cores, s); // owned cores keep products from their first forward
            }
            e.valid = false;
            int d = s.cores();
            long perRow = 0, snapBytes = 4L * distinct; // the row copy
            long m = 1;
            for (int k = 0; k < d - 1; k++) {
                m *= s.q(k);
                perRow += k == 0 ? 0 : 4L * m * s.rank(k + 1); // P_0 is not kept: it is core 0's slice
                if (!e.trusted) {
                    snapBytes += 4L * Math.min((long) s.coreSize(k), (long) distinct * s.sliceSize(k));
                }
            }
            // flops of the kept products (P_0 is a copy): sum over k >= 1 of 2 Q_{k-1} R_k q_k R_{k+1}
            double flops = 0;
            long qprev = s.q(0);
            for (int k = 1; k < d - 1; k++) {
                flops += 2.0 * qprev * s.rank(k) * s.q(k) * s.rank(k + 1);
                qprev *= s.q(k);
            }
            // (owned cores: no snapshot, so keeping costs only memory that the forward writes anyway)
            if (!e.trusted && flops * distinct < minFlopsPerByte * snapBytes) {
                return null;
            }
            long need = snapBytes + perRow * distinct;
            long others = 0;
            for (ForwardCache o : entries) {
                others += o == e ? 0 : o.bytes;
            }
            // least recently used other entries make room for this one
            while (others + need > budget) {
                ForwardCache lru = null;
                for (ForwardCache o : entries) {
                    if (o != e && (lru == null || o.lastUse < lru.lastUse)) {
                        lru = o;
                    }
                }
                if (lru == null) {
                    break;
                }
                others -= lru.bytes;
                entries.remove(lru);
            }
            long room = budget - others - snapBytes;
            long rowsFit = room <= 0 ? 0 : room / Math.max(1, perRow);
            int nBlocks = (distinct + block - 1) / block;
            e.blocks = (int) Math.min(nBlocks, rowsFit / block + (rowsFit >= distinct ? 1 : 0));
            if (e.blocks <= 0) {
                e.dropArrays();
                return null;
            }
            if (e.pv.length > e.blocks) { // blocks no longer kept: release their memory
                for (int b = e.blocks; b < e.pv.length; b++) {
                    e.pv[b] = null;
                }
                e.recount();
            }
            return e;
        }

        /**
         * A backward starts: the entry whose products it may use, or null. The first backward of
         * a table registers it, so its later forwards keep their products.
         */
        ForwardCache forBackward(float[][] cores, TtShape s, int[] uRow, int distinct) {
            if (budget <= 0) {
                return null;
            }
            ForwardCache e = find(cores, s);
            if (e == null) {
                create(cores, s);
                return null;
            }
            return e.matches(cores, uRow, distinct) ? e : null;
        }

        /** Bytes held by all entries (for tests). */
        long bytes() {
            long b = 0;
            for (ForwardCache e : entries) {
                b += e.bytes;
            }
            return b;
        }
    }

    private void dropArrays() {
        pv = new float[0][][];
        snap = new float[shape.cores()][];
        snapDigits = new int[shape.cores()][];
        snapCount = new int[shape.cores()];
        rows = new int[0];
        valid = false;
        blocks = 0;
        bytes = 0;
    }

    private void recount() {
        long b = 4L * rows.length;
        for (float[][] block : pv) {
            if (block != null) {
                for (float[] a : block) {
                    b += a == null ? 0 : 4L * a.length;
                }
            }
        }
        for (float[] a : snap) {
            b += a == null ? 0 : 4L * a.length;
        }
        bytes = b;
    }
}
