package org.ttrec.spark.train;

import java.io.IOException;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Keeps each replica's model, optimiser and open data set in the executor JVM between rounds,
 * so that a round costs its training steps and not a rebuild (opening the data, planning and
 * initialising the model). A round still installs the combined state into the kept model, so a
 * kept replica and a rebuilt one (the task landed on another executor, or was retried) compute
 * the same bits; the cache only saves time.
 *
 * <p>A replica is taken out while its task runs and put back only when the task succeeded, so a
 * failed attempt's half-trained model is never reused. Replicas of other jobs are closed when a
 * job's task arrives, and the driver closes a job's replicas when the job ends (which reaches
 * every executor in local mode; on a cluster the next job's first task does it).
 */
final class ReplicaCache {
    private record Key(String job, int replica) {}

    private record Entry(ReplicaModel model, long round) {}

    private static final Map<Key, Entry> KEPT = new ConcurrentHashMap<>();

    private ReplicaCache() {}

    /**
     * Takes the replica kept after the previous round of the same job, closing every kept
     * replica of other jobs.
     *
     * @param job     the job's id
     * @param replica the replica
     * @param round   the round about to run
     * @return the kept replica, or null if there is none (build one)
     */
    static ReplicaModel take(String job, int replica, long round) {
        for (Iterator<Map.Entry<Key, Entry>> it = KEPT.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<Key, Entry> e = it.next();
            if (!e.getKey().job().equals(job) && KEPT.remove(e.getKey(), e.getValue())) {
                closeQuietly(e.getValue().model());
            }
        }
        Entry e = KEPT.remove(new Key(job, replica));
        if (e == null) {
            return null;
        }
        if (e.round() != round - 1) { // a stale one (this executor missed rounds)
            closeQuietly(e.model());
            return null;
        }
        return e.model();
    }

    /** Keeps a replica after a successful round (closing one kept under the same key, if any). */
    static void put(String job, int replica, long round, ReplicaModel m) {
        Entry old = KEPT.put(new Key(job, replica), new Entry(m, round));
        if (old != null && old.model() != m) {
            closeQuietly(old.model());
        }
    }

    /** Closes every kept replica of a job. @param job the job's id */
    static void release(String job) {
        for (Iterator<Map.Entry<Key, Entry>> it = KEPT.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<Key, Entry> e = it.next();
            if (e.getKey().job().equals(job) && KEPT.remove(e.getKey(), e.getValue())) {
                closeQuietly(e.getValue().model());
            }
        }
    }

    private static void closeQuietly(ReplicaModel m) {
        try {
            m.close();
        } catch (IOException | RuntimeException e) {
            // a replica that cannot close cleanly is dropped all the same
        }
    }
}
