package org.ttrec.dlrm.fuzz;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Every fuzz target on its seeds and on its checked-in regression inputs (past findings), in this
 * JVM: fast, and the place where a fixed finding stays fixed.
 */
class FuzzRegressionTest {

    @Test
    void seedsAndPastFindingsPassEveryTarget() throws Exception {
        int inputs = 0;
        for (String t : FuzzTargets.ALL) {
            for (byte[] s : FuzzTargets.seeds(t)) {
                check(t, "seed", s);
                inputs++;
            }
            for (Path p : FuzzTargets.regressionInputs(t)) {
                check(t, p.getFileName().toString(), Files.readAllBytes(p));
                inputs++;
            }
        }
        System.out.println("FuzzRegressionTest: " + inputs + " inputs over " + FuzzTargets.ALL.size() + " targets");
    }

    private static void check(String target, String name, byte[] input) {
        try {
            FuzzTargets.run(target, input);
        } catch (Throwable e) {
            fail(FuzzTargets.simpleName(target) + " on " + name + ": " + e, e);
        }
    }
}
