package io.github.djllightning.trainer;

import ai.djl.ndarray.NDManager;
import ai.djl.training.dataset.Batch;
import io.github.djllightning.callback.Callback;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.testing.BoringModule;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Map;

/**
 * A training process for {@link SignalTest}: trains for a long time, printing {@code STEP <n>} after every batch,
 * and ends the way a command-line application should when interrupted: {@code System.exit(e.exitCode())}.
 *
 * <p>Arguments: the root folder.
 */
public final class InterruptedTrainingChild {

    private InterruptedTrainingChild() {}

    public static void main(String[] args) throws InterruptedException {
        Path root = Paths.get(args[0]);
        Callback progress = new Callback() {
            @Override
            public void onTrainBatchEnd(
                    Trainer trainer, LightningModule module, Map<String, Object> outputs, Batch batch, int batchIdx) {
                System.out.println("STEP " + trainer.globalStep());
                System.out.flush();
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        };
        try (NDManager manager = NDManager.newBaseManager(); BoringModule module = new BoringModule()) {
            Trainer trainer = Trainer.builder()
                    .defaultRootDir(root)
                    .enableProgressBar(false)
                    .enableModelSummary(false)
                    .logEveryNSteps(1)
                    .maxEpochs(1000)
                    .seed(3)
                    .callbacks(progress)
                    .build();
            try {
                trainer.fit(module, BoringModule.data(manager, 50));
                System.out.println("FINISHED");
            } catch (TrainingInterruptedException e) {
                System.out.println("INTERRUPTED " + e.checkpoint());
                System.out.flush();
                System.exit(e.exitCode());
            }
        }
    }
}
