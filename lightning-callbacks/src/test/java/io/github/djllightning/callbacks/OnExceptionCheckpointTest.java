package io.github.djllightning.callbacks;

import static io.github.djllightning.testing.TestTrainers.quiet;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDManager;
import ai.djl.training.dataset.Batch;
import io.github.djllightning.checkpoint.Checkpoint;
import io.github.djllightning.checkpoint.CheckpointReader;
import io.github.djllightning.data.DataLoader;
import io.github.djllightning.testing.BoringModule;
import io.github.djllightning.testing.EngineTest;
import io.github.djllightning.testing.TestTrainers;
import io.github.djllightning.trainer.MisconfigurationException;
import io.github.djllightning.trainer.Trainer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link OnExceptionCheckpoint}: a failed fit leaves a checkpoint to resume from; a successful one leaves none. */
class OnExceptionCheckpointTest extends EngineTest {

    @TempDir
    Path root;

    /** BoringModule whose training step fails once the optimizer has stepped {@code failAtStep} times. */
    static class FailingModule extends BoringModule {
        private final long failAtStep;

        FailingModule(long failAtStep) {
            this.failAtStep = failAtStep;
        }

        @Override
        public Object trainingStep(Batch batch, int batchIdx) {
            if (getTrainer().globalStep() == failAtStep) {
                throw new IllegalStateException("disk full at step " + failAtStep);
            }
            return super.trainingStep(batch, batchIdx);
        }
    }

    private Trainer trainer(OnExceptionCheckpoint callback) {
        return quiet(root).maxEpochs(1).seed(42).callbacks(callback).build();
    }

    @Test
    void aFailedFitLeavesACheckpointAtTheFailedStepFromWhichTheRunEndsAsIfUninterrupted() {
        DataLoader data = BoringModule.data(manager, 6);
        List<float[]> uninterrupted;
        try (BoringModule module = new BoringModule()) {
            trainer(new OnExceptionCheckpoint(root.resolve("unused"))).fit(module, data);
            uninterrupted = TestTrainers.weights(module);
        }

        OnExceptionCheckpoint callback = new OnExceptionCheckpoint(root.resolve("ck"));
        Path file = root.resolve("ck/on_exception.ckpt");
        assertThat(callback.ckptPath()).isEqualTo(file);
        try (FailingModule module = new FailingModule(3)) {
            assertThatThrownBy(() -> trainer(callback).fit(module, data)).hasMessageContaining("disk full at step 3");
        }
        assertThat(CheckpointReader.readEntries(file)).containsEntry("global_step", 3L);
        try (NDManager scratch = manager.newSubManager()) {
            Checkpoint checkpoint = CheckpointReader.read(file, scratch);
            assertThat(checkpoint.tensors("state_dict")).containsKeys("layer.weight", "layer.bias");
        }

        try (BoringModule module = new BoringModule()) {
            Trainer trainer = trainer(callback);
            trainer.fit(module, data, file.toString());
            assertThat(trainer.globalStep()).isEqualTo(6);
            assertThat(TestTrainers.sameWeights(TestTrainers.weights(module), uninterrupted)).isTrue();
        }
        // the resumed fit succeeded: the file it came from is superseded and deleted
        assertThat(Files.exists(file)).isFalse();
        assertThat(Files.exists(root.resolve("unused"))).isFalse();
    }

    @Test
    void onlyAFitSavesTheFileAndOnlyASuccessfulFitDeletesIt() {
        OnExceptionCheckpoint callback = new OnExceptionCheckpoint(root, "crash");
        Path file = root.resolve("crash.ckpt");
        DataLoader data = BoringModule.data(manager, 3);
        try (FailingModule module = new FailingModule(1)) {
            assertThatThrownBy(() -> trainer(callback).fit(module, data)).hasMessageContaining("disk full");
            assertThat(CheckpointReader.readEntries(file)).containsEntry("global_step", 1L);

            BoringModule failingValidation = new BoringModule() {
                @Override
                public Object validationStep(Batch batch, int batchIdx) {
                    throw new IllegalStateException("bad validation batch");
                }
            };
            try (failingValidation) {
                assertThatThrownBy(() -> trainer(callback).validate(failingValidation, data))
                        .hasMessageContaining("bad validation batch");
            }
            // a validation changes no weights: it neither saves nor, when it succeeds, deletes the failed fit's file
            trainer(callback).validate(module, data);
            assertThat(CheckpointReader.readEntries(file)).containsEntry("global_step", 1L);

            trainer(callback).fit(new BoringModule(), data);
            assertThat(Files.exists(file)).isFalse();
        }
    }

    @Test
    void badArgumentsAreRejectedNamingTheValueAndTheFix() {
        assertThatThrownBy(() -> new OnExceptionCheckpoint(null))
                .isInstanceOf(MisconfigurationException.class)
                .hasMessageContaining("needs the folder to save to, got null");
        assertThatThrownBy(() -> new OnExceptionCheckpoint(root, ""))
                .isInstanceOf(MisconfigurationException.class)
                .hasMessageContaining("filename must not be empty, got ''");
        assertThatThrownBy(() -> new OnExceptionCheckpoint(root, "crash.ckpt"))
                .isInstanceOf(MisconfigurationException.class)
                .hasMessage("OnExceptionCheckpoint filename must not include the extension, got 'crash.ckpt'; use"
                        + " 'crash'.");
        assertThatThrownBy(() -> new OnExceptionCheckpoint(root, "sub/crash"))
                .isInstanceOf(MisconfigurationException.class)
                .hasMessageContaining("must be a plain name, got 'sub/crash'; put the folder in dirpath");
        assertThat(new OnExceptionCheckpoint(root).filename()).isEqualTo("on_exception");
    }
}
