package org.ttrec.spark.train;

import org.apache.spark.api.java.function.PairFunction;
import org.apache.spark.broadcast.Broadcast;
import scala.Tuple2;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The reduce side of a round, one chunk of the state at a time, as {@link SparkTrainOptions}
 * says for weights and for optimiser state ({@link Combine}): the replicas' weighted mean, or the
 * round's start value plus every replica's change. Sums run in double, in replica order whatever
 * order the shuffle delivered the pieces in, so the result does not depend on which task finished
 * first, and one replica's combine is its own floats exactly. The outcomes are gathered in
 * replica order.
 */
final class Averaging implements PairFunction<Tuple2<Integer, Iterable<Piece>>, Integer, Piece> {
    private static final long serialVersionUID = 1L;
    private final Broadcast<RoundInput> input;

    /** @param input the round's input: the state it started from and the options */
    Averaging(Broadcast<RoundInput> input) {
        this.input = input;
    }

    @Override
    public Tuple2<Integer, Piece> call(Tuple2<Integer, Iterable<Piece>> group) {
        List<Piece> pieces = new ArrayList<>();
        group._2().forEach(pieces::add);
        pieces.sort(Comparator.comparingInt(Piece::replica));
        if (group._1() == Chunks.OUTCOMES) {
            List<ReplicaOutcome> all = new ArrayList<>();
            for (Piece p : pieces) {
                all.addAll(p.outcomes());
            }
            return new Tuple2<>(group._1(), new Piece(-1, 0, -1, -1, 0, 0, false, null, all));
        }
        Piece first = pieces.get(0);
        int n = first.values().length;
        for (Piece p : pieces) {
            if (p.values().length != n || p.array() != first.array() || p.offset() != first.offset()) {
                throw new IllegalStateException("chunk " + group._1() + ": replica " + p.replica() + " sent array "
                        + p.array() + " [" + p.offset() + ", +" + p.values().length + "), replica " + first.replica()
                        + " array " + first.array() + " [" + first.offset() + ", +" + n + ")");
            }
        }
        RoundInput in = input.value();
        Combine how = first.accumulator() ? in.options().state() : in.options().weights();
        float[] out = how == Combine.AVERAGE ? mean(pieces, n) : sumOfChanges(in.state(), pieces, n);
        return new Tuple2<>(group._1(), new Piece(-1, 0, first.array(), first.owner(), first.position(), first.offset(),
                first.accumulator(), out, List.of()));
    }

    private static float[] mean(List<Piece> pieces, int n) {
        double[] sum = new double[n];
        double total = 0;
        for (Piece p : pieces) {
            double w = p.weight();
            float[] v = p.values();
            for (int j = 0; j < n; j++) {
                sum[j] += w * v[j];
            }
            total += w;
        }
        float[] mean = new float[n];
        for (int j = 0; j < n; j++) {
            mean[j] = (float) (sum[j] / total);
        }
        return mean;
    }

    /** start + sum of (replica - start); optimiser state the round started without starts at 0. */
    private static float[] sumOfChanges(ModelState start, List<Piece> pieces, int n) {
        Piece first = pieces.get(0);
        float[] from = start.find(first.owner(), first.accumulator(), first.position());
        if (from == null && !first.accumulator()) {
            throw new IllegalStateException("round started without weights " + first.owner() + "/" + first.position());
        }
        double[] base = new double[n];
        if (from != null) {
            for (int j = 0; j < n; j++) {
                base[j] = from[first.offset() + j];
            }
        }
        double[] sum = base.clone();
        for (Piece p : pieces) {
            float[] v = p.values();
            for (int j = 0; j < n; j++) {
                sum[j] += v[j] - base[j];
            }
        }
        float[] out = new float[n];
        for (int j = 0; j < n; j++) {
            out[j] = (float) sum[j];
        }
        return out;
    }
}
