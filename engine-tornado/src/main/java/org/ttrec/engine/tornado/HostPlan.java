package org.ttrec.engine.tornado;

import java.util.Arrays;

import static org.ttrec.engine.tornado.PlanLayout.*;

/**
 * The host side of one batch of bag lookups: sorts the lookups once and lays out what the
 * forward and the backward kernels need ({@link PlanLayout}). Sorting on the host is what makes
 * the kernels deterministic without atomics: every sum a kernel computes runs over a list this
 * class put in a fixed order. Grows only when a batch is larger than any before it.
 */
final class HostPlan {
    /** TT row factors, or null for an uncompressed table. */
    private final int[] p;
    /** Whether the d = 3 fast layout is built (otherwise the generic one). */
    private final boolean fast;
    private final int sections;
    int stride = 1;
    int[] data = new int[0];
    int lookups;
    int bags;
    int distinct;
    int prefixes;
    final int[] touched;
    private long[] keys = new long[0];
    private int[] bagOf = new int[0];

    /**
     * @param p TT row factors, or null for an uncompressed table
     */
    HostPlan(int[] p) {
        this.p = p == null ? null : p.clone();
        this.fast = p != null && p.length == 3;
        this.sections = p == null ? DENSE : fast ? FAST : generic(p.length);
        this.touched = new int[p == null ? 0 : p.length];
    }

    /** @return ints of the data for a capacity of {@code cap} lookups and bags */
    int size(int cap) {
        return sections * (cap + 1);
    }

    /** Makes room for batches of this many lookups and bags. */
    void reserve(int lookupCap, int bagCap) {
        int cap = Math.max(lookupCap, bagCap);
        if (cap + 1 > stride) {
            stride = cap + 1;
            data = new int[sections * stride];
            keys = new long[cap];
            bagOf = new int[cap];
        }
    }

    /**
     * Lays out a batch (already checked): bag b is indices[offsets[b] .. offsets[b+1]).
     */
    void set(int[] indices, int[] offsets, int bagCount) {
        int first = offsets[0];
        int n = offsets[bagCount] - first;
        reserve(n, bagCount);
        lookups = n;
        bags = bagCount;
        int off = OFF * stride, idx = IDX * stride;
        for (int b = 0; b < bagCount; b++) {
            data[off + b] = offsets[b] - first;
            for (int j = offsets[b]; j < offsets[b + 1]; j++) {
                bagOf[j - first] = b;
            }
        }
        data[off + bagCount] = n;
        for (int j = 0; j < n; j++) {
            int row = indices[first + j];
            data[idx + j] = row;
            keys[j] = ((long) row << 32) | j;
        }
        // stable row sort: ties keep batch order, the order the reference sums a row's gradient in
        Arrays.sort(keys, 0, n);
        int lrow = LROW * stride, urow = UROW * stride, rlk = RLK * stride;
        int lkBag = LKBAG * stride, lkPerm = LKPERM * stride;
        int u = -1;
        long prev = -1;
        for (int k = 0; k < n; k++) {
            int row = (int) (keys[k] >>> 32);
            int j = (int) keys[k];
            if (row != prev) {
                u++;
                data[urow + u] = row;
                data[rlk + u] = k;
                prev = row;
            }
            data[lrow + j] = u;
            data[lkBag + k] = bagOf[j];
            data[lkPerm + k] = j;
        }
        distinct = u + 1;
        data[rlk + distinct] = n;
        if (fast) {
            groupPrefixes();
        } else if (p != null) {
            groupDigits();
        }
    }

    /**
     * d = 3: rows are ascending, so their digits are lexicographically ascending: rows of one
     * prefix (i0, i1) are consecutive and so are prefixes of one i0. Only the i2 and i1 groupings
     * need a (counting, stable) sort.
     */
    private void groupPrefixes() {
        int p1 = p[1], p2 = p[2];
        int urow = UROW * stride, ui2 = UI2 * stride, upref = UPREF * stride;
        int pi0 = PI0 * stride, pi1 = PI1 * stride, prs = PRS * stride;
        int np = 0;
        int prevKey = -1;
        for (int u = 0; u < distinct; u++) {
            int row = data[urow + u];
            int key = row / p2; // i0 * p1 + i1
            if (key != prevKey) {
                data[pi0 + np] = key / p1;
                data[pi1 + np] = key % p1;
                data[prs + np] = u;
                np++;
                prevKey = key;
            }
            data[ui2 + u] = row % p2;
            data[upref + u] = np - 1;
        }
        prefixes = np;
        data[prs + np] = distinct;
        touched[2] = countingGroup(distinct, p2, ui2, R2BY * stride, T2 * stride, T2S * stride);
        touched[1] = countingGroup(np, p1, pi1, P1BY * stride, T1 * stride, T1S * stride);
        int t0 = T0 * stride, t0s = T0S * stride;
        int n0 = 0;
        int prev = -1;
        for (int q = 0; q < np; q++) {
            int i0 = data[pi0 + q];
            if (i0 != prev) {
                data[t0 + n0] = i0;
                data[t0s + n0] = q;
                n0++;
                prev = i0;
            }
        }
        data[t0s + n0] = np;
        touched[0] = n0;
    }

    /** Any d: each distinct row's digits, then the rows grouped by each digit (stable). */
    private void groupDigits() {
        int d = p.length;
        int urow = UROW * stride;
        for (int u = 0; u < distinct; u++) {
            int r = data[urow + u];
            for (int k = d - 1; k >= 0; k--) {
                data[dig(k) * stride + u] = r % p[k];
                r /= p[k];
            }
        }
        for (int k = 0; k < d; k++) {
            touched[k] = countingGroup(distinct, p[k], dig(k) * stride, by(d, k) * stride, PlanLayout.touched(d, k) * stride,
                    starts(d, k) * stride);
        }
    }

    /**
     * Stable counting sort of items 0..n-1 by their digit (at {@code digitSec}): writes the
     * grouped items, the touched digits (ascending) and their CSR starts.
     *
     * @return number of touched digits
     */
    private int countingGroup(int n, int radix, int digitSec, int permSec, int touchedSec, int startSec) {
        int[] count = new int[radix + 1];
        for (int i = 0; i < n; i++) {
            count[data[digitSec + i] + 1]++;
        }
        int t = 0;
        for (int v = 0; v < radix; v++) {
            if (count[v + 1] > 0) {
                data[touchedSec + t] = v;
                data[startSec + t] = count[v];
                t++;
            }
            count[v + 1] += count[v];
        }
        data[startSec + t] = n;
        for (int i = 0; i < n; i++) {
            int v = data[digitSec + i];
            data[permSec + count[v]++] = i;
        }
        return t;
    }
}
