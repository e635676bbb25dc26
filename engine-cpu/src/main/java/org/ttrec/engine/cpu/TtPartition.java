package org.ttrec.engine.cpu;

/**
 * One static partition of every phase of a call, with its own scratch: rows in the chain phases,
 * slices in the reduction, bags in pooling. Partition t of n takes [N t / n, N (t+1) / n) of
 * each phase's items.
 */
final class TtPartition {
    /** The phases of a call, in the order they run. */
    enum Phase {
        /** Backward: bag gradients into row gradients. */
        ROW_GRADS,
        /** The chain walk of the current block, forward or backward. */
        CHAIN_FORWARD, CHAIN_BACKWARD,
        /** Forward: row values into bag outputs. */
        POOL,
        /** Slice gradients of levels 1..d-1 of the current block. */
        REDUCE,
        /** Level 0 last: its fused step changes core 0, whose slices are level 1's P_0. */
        REDUCE_LEVEL0,
        /** Backward of several blocks: the optimiser on every touched slice. */
        APPLY
    }

    private final int part;
    private final TtBatchPlan plan;
    private final TtGroups groups;
    final TtSliceTransposes transposes;
    final TtReduce reduce;
    final TtChainWorker chain;
    private final TtBagRows bagRows;
    /** The phase this partition runs next. */
    Phase phase;

    TtPartition(int part, TtBatchPlan plan, TtGroups groups, TtScratch scratch, TtPaths paths, TtCall call) {
        this.part = part;
        this.plan = plan;
        this.groups = groups;
        transposes = new TtSliceTransposes(plan, call, scratch);
        reduce = new TtReduce(part, plan, groups, scratch, paths, call);
        chain = new TtChainWorker(plan, groups, scratch, paths, call, transposes, reduce);
        bagRows = new TtBagRows(plan, scratch, paths, call);
    }

    /** Partition t's first item of n items split over parts. */
    static int split(int n, int parts, int t) {
        return (int) ((long) n * t / parts);
    }

    /** Grows the scratch to the plan's table. */
    void ensure() {
        transposes.ensure();
        reduce.ensure();
        chain.ensure();
    }

    /** Runs this partition's share of {@link #phase}. */
    void work() {
        int parts = plan.parts, t = part;
        switch (phase) {
            case ROW_GRADS -> bagRows.rowGrads(split(plan.distinct, parts, t), split(plan.distinct, parts, t + 1));
            case CHAIN_FORWARD, CHAIN_BACKWARD -> {
                int start = groups.blockStart, rows = groups.blockEnd - start;
                chain.walk(start + split(rows, parts, t), start + split(rows, parts, t + 1),
                        phase == Phase.CHAIN_BACKWARD);
            }
            case POOL -> bagRows.pool(split(plan.bags, parts, t), split(plan.bags, parts, t + 1));
            case REDUCE -> reduce.reduce(1, plan.levels);
            case REDUCE_LEVEL0 -> reduce.reduce(0, 1);
            case APPLY -> reduce.apply();
        }
    }
}
