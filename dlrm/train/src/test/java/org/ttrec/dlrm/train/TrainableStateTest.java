package org.ttrec.dlrm.train;

import org.junit.jupiter.api.Test;
import org.ttrec.dlrm.config.RunConfig;
import org.ttrec.dlrm.layers.EmbeddingBagLayer;
import org.ttrec.dlrm.layers.TrainableState;
import org.ttrec.dlrm.model.EmbeddingTableSpec;

import java.io.IOException;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A model given another's weights and optimiser states (what data-parallel training does with
 * every replica) continues exactly as that model does.
 */
class TrainableStateTest {

    @Test
    void aModelLoadedWithAnothersStateTrainsOnIdentically() throws IOException {
        for (String optimizer : new String[] {"adagrad", "sgd"}) {
            RunConfig c = TrainerTest.small();
            c.train.optimizer = optimizer;
            c.train.epochs = 2;
            c.train.maxSteps = 10;
            TrainerTest.Run a = TrainerTest.setup(c.copy());
            assertTrue(a.specs().stream().anyMatch(s -> s.kind() == EmbeddingTableSpec.Kind.TT), "tiny has TT tables");
            Trainer ta = new Trainer(c, a.model(), a.opt(), a.specs(), a.data(), null, null, null);
            ta.setRunTest(false);
            ta.setFinalValidation(false);
            ta.run();

            RunConfig other = c.copy();
            other.train.seed = c.train.seed + 1; // different initial weights: only the loaded state can make them equal
            TrainerTest.Run b = TrainerTest.setup(other);
            assertFalse(java.util.Arrays.equals(TrainerTest.snapshot(a.model()), TrainerTest.snapshot(b.model())));
            b.model().parameters().write(a.model().parameters().toArray());
            b.opt().writeState(a.opt().readState());
            for (int t = 0; t < a.model().tables().size(); t++) {
                TrainableState s = a.model().tables().get(t).trainableState();
                if (optimizer.equals("adagrad")) {
                    assertFalse(s.optimizerState().isEmpty(), "table " + t + " keeps Adagrad state");
                }
                b.model().tables().get(t).loadTrainableState(s);
            }
            assertArrayEquals(TrainerTest.snapshot(a.model()), TrainerTest.snapshot(b.model()));

            RunConfig more = c.copy();
            more.train.maxSteps = 20;
            Trainer ta2 = new Trainer(more, a.model(), a.opt(), a.specs(), a.data(), null, null, null);
            ta2.resumeFrom(ta.state());
            ta2.setRunTest(false);
            ta2.run();
            Trainer tb2 = new Trainer(more, b.model(), b.opt(), b.specs(), a.data(), null, null, null); // b.data() was made from the other seed
            tb2.resumeFrom(ta.state());
            tb2.setRunTest(false);
            tb2.run();
            assertEquals(20, tb2.state().step());
            assertArrayEquals(TrainerTest.snapshot(a.model()), TrainerTest.snapshot(b.model()), optimizer);
            if (optimizer.equals("adagrad")) {
                assertArrayEquals(a.opt().readState(), b.opt().readState());
            }
        }
    }

    @Test
    void aStateOfAnotherShapeIsRefusedNamingTheLayer() throws IOException {
        RunConfig c = TrainerTest.small();
        TrainerTest.Run a = TrainerTest.setup(c);
        EmbeddingBagLayer first = a.model().tables().get(0);
        EmbeddingBagLayer last = a.model().tables().get(a.model().tables().size() - 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> first.loadTrainableState(last.trainableState()));
        assertTrue(e.getMessage().contains(first.name()), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> a.opt().writeState(new float[3]));
    }
}
