package io.github.djllightning.util;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.github.djllightning.testing.EngineTest;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A batch's manager frees what the step made and gives back what it borrowed, however many arrays it held. */
class StepManagersTest extends EngineTest {

    @Test
    void closingAStepManagerFreesItsArraysAndReturnsLentOnes() {
        try (NDManager parent = manager.newSubManager()) {
            NDArray weight = parent.ones(new ai.djl.ndarray.types.Shape(3));
            NDManager step = StepManagers.newStepManager(parent);
            assertThat(step.getParentManager()).isSameAs(parent);
            weight.tempAttach(step);
            List<NDArray> made = new ArrayList<>();
            for (int i = 0; i < 200; i++) { // beyond the room it starts with
                made.add(weight.mul(i));
            }
            assertThat(made.get(199).getManager()).isSameAs(step);
            step.close();
            assertThat(made).allMatch(NDArray::isReleased);
            assertThat(weight.isReleased()).isFalse();
            assertThat(weight.getManager()).isSameAs(parent);
            assertThat(weight.sum().getFloat()).isEqualTo(3f);
        }
    }
}
