package org.ttrec.engine.cpu;

import java.util.Arrays;

/** A growable list of ints (digits, slots), cleared by setting {@link #n} to 0. */
final class IntList {
    int[] a = new int[16];
    int n;

    void add(int v) {
        if (n == a.length) {
            a = Arrays.copyOf(a, 2 * n);
        }
        a[n++] = v;
    }
}
