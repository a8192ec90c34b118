package io.github.djllightning.examples.guide;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import io.github.djllightning.callback.ModelCheckpoint;
import io.github.djllightning.callbacks.OnExceptionCheckpoint;
import io.github.djllightning.checkpoint.PyTorchWeights;
import io.github.djllightning.data.DataLoader;
import io.github.djllightning.examples.autoencoder.LitAutoEncoder;
import io.github.djllightning.examples.callbacks.MirrorCheckpoints;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.trainer.Trainer;
import io.github.djllightning.trainer.TrainingInterruptedException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The samples of the checkpoints page: saving, resuming, stopping safely, and taking weights out. */
public final class CheckpointsGuide {

    private CheckpointsGuide() {}

    /**
     * A Trainer whose checkpoint callback keeps the 3 best checkpoints by {@code val_loss}, every 100 steps, and
     * {@code last.ckpt}.
     *
     * @param checkpointDir where the checkpoints go
     * @return the Trainer; {@code trainer.checkpointCallback()} is the configured callback
     */
    public static Trainer configuredCheckpoints(Path checkpointDir) {
        // snippet:model-checkpoint
        ModelCheckpoint checkpoint = ModelCheckpoint.builder()
                .dirpath(checkpointDir)              // default: the logger's folder + /checkpoints
                .filename("{epoch}-{val_loss:.2f}")  // metric names are inserted: epoch=3-val_loss=0.12.ckpt
                .monitor("val_loss").mode("min")
                .saveTopK(3)                         // -1 all, 0 none
                .saveLast(true)                      // last.ckpt
                .everyNTrainSteps(100)               // or everyNEpochs(n), or trainTimeInterval(Duration)
                .saveOnException(true)               // also save when the fit fails
                .build();
        Trainer trainer = Trainer.builder().maxEpochs(4).callbacks(checkpoint).build();
        // end-snippet:model-checkpoint
        return trainer;
    }

    /**
     * Trains up to {@code epochs} epochs, continuing from the newest {@code last.ckpt} in the folder when there is
     * one.
     *
     * @param module the module to train (a new instance: its weights come from the checkpoint)
     * @param trainLoader the training data
     * @param valLoader the validation data
     * @param checkpointDir the checkpoint folder, the same for every run
     * @param epochs the total number of epochs, those of earlier runs included
     * @return the Trainer after the fit
     */
    public static Trainer trainOrResume(
            LightningModule module, DataLoader trainLoader, DataLoader valLoader, Path checkpointDir, int epochs) {
        // snippet:resume
        ModelCheckpoint checkpoint = ModelCheckpoint.builder().dirpath(checkpointDir).saveLast(true).build();
        Trainer trainer = Trainer.builder().maxEpochs(epochs).callbacks(checkpoint).build();
        trainer.fit(module, trainLoader, valLoader, "last");   // or a file: "runs/ck/epoch=3-step=7500.ckpt"
        // end-snippet:resume
        return trainer;
    }

    /**
     * Trains 10 epochs, resuming from {@code last.ckpt} when it exists, and turns an interrupt (SIGTERM, Ctrl-C) into
     * the process's exit code.
     *
     * @param module the module to train
     * @param trainLoader the training data
     * @param valLoader the validation data
     * @param checkpointDir the checkpoint folder, the same for every run
     * @return 0 when the fit ended, else the exit code for {@code System.exit}
     */
    public static int fitUntilDoneOrStopped(
            LightningModule module, DataLoader trainLoader, DataLoader valLoader, Path checkpointDir) {
        // snippet:stop-safely
        ModelCheckpoint checkpoint = ModelCheckpoint.builder().dirpath(checkpointDir).saveLast(true).build();
        Trainer trainer = Trainer.builder().maxEpochs(10).callbacks(checkpoint).build();
        boolean resume = Files.exists(checkpointDir.resolve("last.ckpt"));
        try {
            trainer.fit(module, trainLoader, valLoader, resume ? "last" : null);
            return 0;
        } catch (TrainingInterruptedException e) {
            return e.exitCode();   // main() ends with System.exit(code): 143 after SIGTERM, 130 after Ctrl-C
        }
        // end-snippet:stop-safely
    }

    /**
     * Trains 2 epochs, resuming from the checkpoint a failed earlier fit left.
     *
     * @param module the module to train
     * @param trainLoader the training data
     * @param checkpointDir where {@code on_exception.ckpt} goes
     * @return the Trainer after the fit
     */
    public static Trainer fitKeepingAFailedRun(LightningModule module, DataLoader trainLoader, Path checkpointDir) {
        // snippet:on-exception
        OnExceptionCheckpoint crash = new OnExceptionCheckpoint(checkpointDir);
        Trainer trainer = Trainer.builder().maxEpochs(2).callbacks(crash).build();
        trainer.fit(module, trainLoader, Files.exists(crash.ckptPath()) ? crash.ckptPath().toString() : null);
        // end-snippet:on-exception
        return trainer;
    }

    /**
     * A one-epoch Trainer that copies every checkpoint it writes to a second folder.
     *
     * @param backupDir the second folder
     * @return the Trainer
     */
    public static Trainer mirrored(Path backupDir) {
        // snippet:mirror
        Trainer trainer = Trainer.builder().maxEpochs(1).callbacks(new MirrorCheckpoints(backupDir)).build();
        // end-snippet:mirror
        return trainer;
    }

    /**
     * Saves the encoder of a trained autoencoder's checkpoint as a DJL model.
     *
     * @param checkpoint the autoencoder's checkpoint
     * @param modelDir the model folder
     * @return the {@code .params} file written
     */
    public static Path exportEncoder(Path checkpoint, Path modelDir) {
        try (NDManager manager = NDManager.newBaseManager()) {
            // snippet:djl-model
            Block encoder = LitAutoEncoder.encoder();
            encoder.initialize(manager, DataType.FLOAT32, new Shape(1, 28 * 28));
            PyTorchWeights.fromCheckpoint(checkpoint, "encoder.", encoder);   // drops the key prefix
            Path params = PyTorchWeights.saveDjlModel(encoder, modelDir, "encoder");
            // end-snippet:djl-model
            return params;
        }
    }
}
