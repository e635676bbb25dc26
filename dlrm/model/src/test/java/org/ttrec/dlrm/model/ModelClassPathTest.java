package org.ttrec.dlrm.model;

import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A service that depends on dlrm-model gets no CLI, plotting or progress-bar library: this module's
 * test class path is its own dependency set (plus JUnit), so none of their classes may load here.
 */
class ModelClassPathTest {
    @ParameterizedTest
    @ValueSource(strings = {"picocli.CommandLine", "me.tongfei.progressbar.ProgressBar", "org.knowm.xchart.XYChart",
            "org.ttrec.dlrm.train.Trainer", "org.ttrec.dlrm.cli.Main"})
    void upperLayersAreNotOnTheClassPath(String className) {
        assertThrows(ClassNotFoundException.class, () -> Class.forName(className),
                className + " is reachable from dlrm-model: a dependency leaked into the model layer");
    }
}
