package io.github.djllightning.examples.guide;

import io.github.djllightning.data.DataLoader;
import io.github.djllightning.log.CsvLogger;
import io.github.djllightning.loggers.TensorBoardLogger;
import io.github.djllightning.trainer.Trainer;
import java.nio.file.Path;

/** The samples of the experiment-tracking page: where the logged values go. */
public final class ExperimentTrackingGuide {

    private ExperimentTrackingGuide() {}

    /**
     * Trains the tracked classifier for one epoch with the default logger, under a chosen folder.
     *
     * @param root where {@code lightning_logs} goes
     * @param trainLoader the training data
     * @return the Trainer after the fit
     */
    public static Trainer defaultLogger(Path root, DataLoader trainLoader) {
        // snippet:default-root-dir
        Trainer trainer = Trainer.builder().defaultRootDir(root).maxEpochs(1).build();
        trainer.fit(new TrackedClassifier(new TrackedClassifier.HParams(64, 1e-3)), trainLoader);
        // end-snippet:default-root-dir
        return trainer;
    }

    /**
     * Trains the tracked classifier for two epochs, logging to TensorBoard and CSV files every 10 steps.
     *
     * @param root the folder under which both loggers write
     * @param trainLoader the training data
     * @param valLoader the validation data
     * @return the Trainer after the fit
     */
    public static Trainer twoLoggers(Path root, DataLoader trainLoader, DataLoader valLoader) {
        // snippet:loggers
        TensorBoardLogger tensorBoard = new TensorBoardLogger(root);   // root/lightning_logs/version_N, next free N
        CsvLogger csv = CsvLogger.builder(root).version(Integer.parseInt(tensorBoard.version())).build();   // same N
        Trainer trainer = Trainer.builder()
                .loggers(tensorBoard, csv)
                .logEveryNSteps(10)   // step values every 10 steps
                .maxEpochs(2)
                .build();
        trainer.fit(new TrackedClassifier(new TrackedClassifier.HParams(64, 1e-3)), trainLoader, valLoader);
        // end-snippet:loggers
        return trainer;
    }
}
