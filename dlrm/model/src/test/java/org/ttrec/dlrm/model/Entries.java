package org.ttrec.dlrm.model;

import org.ttrec.engine.DenseTable;
import org.ttrec.engine.FloatBuf;
import org.ttrec.engine.TtTable;

/** One parameter array of a model, entry by entry, for finite differences. */
interface Entries {
    float get(int i);

    void set(int i, float v);

    static Entries of(FloatBuf b) {
        return new Entries() {
            @Override
            public float get(int i) {
                float[] one = new float[1];
                b.read(i, one, 0, 1);
                return one[0];
            }

            @Override
            public void set(int i, float v) {
                b.write(i, new float[] {v}, 0, 1);
            }
        };
    }

    /** Entry i is row i / D, column i % D. */
    static Entries of(DenseTable t) {
        return new Entries() {
            @Override
            public float get(int i) {
                float[] row = new float[t.dim()];
                t.readRows(i / t.dim(), row, 0, 1);
                return row[i % t.dim()];
            }

            @Override
            public void set(int i, float v) {
                float[] row = new float[t.dim()];
                t.readRows(i / t.dim(), row, 0, 1);
                row[i % t.dim()] = v;
                t.writeRows(i / t.dim(), row, 0, 1);
            }
        };
    }

    /** Core k of a TT table (written back whole, so the table drops what it kept). */
    static Entries of(TtTable t, int k) {
        return new Entries() {
            @Override
            public float get(int i) {
                return t.readCore(k)[i];
            }

            @Override
            public void set(int i, float v) {
                float[] c = t.readCore(k);
                c[i] = v;
                t.writeCore(k, c);
            }
        };
    }
}
