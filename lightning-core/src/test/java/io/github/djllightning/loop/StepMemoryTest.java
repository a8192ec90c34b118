package io.github.djllightning.loop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.training.dataset.Batch;
import io.github.djllightning.data.DataLoader;
import io.github.djllightning.testing.BoringModule;
import io.github.djllightning.testing.EngineTest;
import io.github.djllightning.testing.TestTrainers;
import io.github.djllightning.trainer.Trainer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every array a step creates is freed with the step, also results of operations that start from a parameter. */
class StepMemoryTest extends EngineTest {

    @TempDir
    Path root;

    /** Adds an L2 penalty computed from the parameters first, the way DJL attaches results to the first operand. */
    static final class PenalizedModule extends BoringModule {
        @Override
        public Object trainingStep(Batch batch, int batchIdx) {
            NDArray loss = (NDArray) super.trainingStep(batch, batchIdx);
            NDArray penalty = null;
            for (Parameter parameter : parameters()) {
                NDArray square = parameter.getArray().square().sum();
                penalty = penalty == null ? square : penalty.add(square);
            }
            log("penalty", penalty);
            return loss.add(penalty.mul(1e-4f));
        }

        @Override
        public Object validationStep(Batch batch, int batchIdx) {
            Object output = super.validationStep(batch, batchIdx);
            log("weight_norm", parameters().get(0).getArray().square().sum().sqrt());
            return output;
        }
    }

    @Test
    void parameterFirstResultsDoNotPileUpInTheParametersManager() {
        assertThat(arraysLeftAfter(5)).isEqualTo(arraysLeftAfter(60));
    }

    @Test
    void inAStepParameterFirstResultsBelongToTheBatchAndParametersGoBackAfterEvenAFailedStep() {
        List<Boolean> resultInBatch = new ArrayList<>();
        List<Boolean> parameterLent = new ArrayList<>();
        List<NDManager> ownManagers = new ArrayList<>();
        BoringModule module = new BoringModule() {
            @Override
            public Object trainingStep(Batch batch, int batchIdx) {
                Object loss = super.trainingStep(batch, batchIdx);
                NDArray weight = parameters().get(0).getArray();
                if (batchIdx == 0) {
                    ownManagers.add(weight.getManager()); // created in this first step, so not lent yet
                }
                resultInBatch.add(weight.square().getManager() == batch.getManager());
                parameterLent.add(weight.getManager() == batch.getManager());
                if (batchIdx == 2) {
                    throw new IllegalStateException("step 2 fails");
                }
                return loss;
            }
        };
        try (module) {
            Trainer trainer = TestTrainers.quiet(root).maxEpochs(1).build();
            assertThatThrownBy(() -> trainer.fit(module, BoringModule.data(manager, 4)))
                    .hasStackTraceContaining("step 2 fails");
            assertThat(resultInBatch.subList(1, 3)).containsExactly(true, true);
            assertThat(parameterLent.subList(1, 3)).containsExactly(true, true);
            NDArray weight = module.parameters().get(0).getArray();
            assertThat(weight.getManager()).isSameAs(ownManagers.get(0));
            assertThat(weight.isReleased()).isFalse();
            assertThat(weight.getManager().getManagedArrays()).contains(weight);
            assertThat(weight.square().sum().getFloat()).isFinite();
        }
    }

    private int arraysLeftAfter(int batches) {
        DataLoader train = BoringModule.data(manager, batches);
        DataLoader val = BoringModule.data(manager, 3);
        try (PenalizedModule module = new PenalizedModule()) {
            Trainer.builder()
                    .maxEpochs(2)
                    .defaultRootDir(root)
                    .enableProgressBar(false)
                    .enableModelSummary(false)
                    .enableCheckpointing(false)
                    .logger(false)
                    .build()
                    .fit(module, train, val);
            assertThat(module.parameters()).allSatisfy(p -> assertThat(p.getArray().isReleased()).isFalse());
            // the lent parameters went back to the module's manager, which still holds them
            assertThat(module.parameters()).allSatisfy(p -> assertThat(p.getArray().getManager().isOpen()).isTrue());
            assertThat(module.parameterManager().getManagedArrays())
                    .containsAll(module.parameters().stream().map(Parameter::getArray).toList());
            return module.parameterManager().getManagedArrays().size();
        }
    }
}
