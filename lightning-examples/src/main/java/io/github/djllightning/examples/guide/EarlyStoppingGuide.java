package io.github.djllightning.examples.guide;

import ai.djl.ndarray.NDArray;
import ai.djl.training.dataset.Batch;
import io.github.djllightning.callbacks.EarlyStopping;
import io.github.djllightning.data.DataLoader;
import io.github.djllightning.examples.autoencoder.LitAutoEncoder;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.trainer.Trainer;
import java.util.Map;

/** The samples of the early-stopping page. */
public final class EarlyStoppingGuide {

    private EarlyStoppingGuide() {}

    /**
     * Trains the autoencoder for up to 10 epochs, stopping as soon as a training step's loss is below a target.
     *
     * @param trainLoader the training data
     * @param targetLoss the loss that is good enough
     * @return the Trainer after the fit; its {@code lightningModule()} is the trained module
     */
    public static Trainer stopFromTheModule(DataLoader trainLoader, double targetLoss) {
        // snippet:from-the-module
        class LitAutoEncoderWithTarget extends LitAutoEncoder {
            LitAutoEncoderWithTarget() {
                super(encoder(), decoder());
            }

            @Override
            public void onTrainBatchEnd(Map<String, Object> outputs, Batch batch, int batchIdx) {
                float loss = ((NDArray) outputs.get("loss")).getFloat();   // copies the loss to the host
                if (loss < targetLoss) {
                    getTrainer().requestStop("train_loss " + loss + " < " + targetLoss);
                }
            }
        }

        Trainer trainer = Trainer.builder().maxEpochs(10).build();
        trainer.fit(new LitAutoEncoderWithTarget(), trainLoader);
        // end-snippet:from-the-module
        return trainer;
    }

    /**
     * Trains until {@code val_loss} stops falling.
     *
     * @param module a module that logs {@code val_loss} in its validation step
     * @param trainLoader the training data
     * @param valLoader the validation data
     * @return the Trainer after the fit
     */
    public static Trainer untilValLossStopsFalling(
            LightningModule module, DataLoader trainLoader, DataLoader valLoader) {
        // snippet:basic
        Trainer trainer = Trainer.builder()
                .callbacks(EarlyStopping.builder("val_loss").mode("min").build())
                .build();
        trainer.fit(module, trainLoader, valLoader);
        // end-snippet:basic
        return trainer;
    }

    /**
     * The tutorial's settings: stop when {@code val_accuracy} has not risen for 3 validations.
     *
     * @return the Trainer
     */
    public static Trainer onAccuracy() {
        // snippet:settings
        EarlyStopping earlyStopping = EarlyStopping.builder("val_accuracy")
                .minDelta(0.0)      // the least rise that counts as better
                .patience(3)        // validations without a better value before stopping
                .verbose(false)     // true: log the outcome of every check
                .mode("max")        // higher is better
                .build();
        Trainer trainer = Trainer.builder().callbacks(earlyStopping).build();
        // end-snippet:settings
        return trainer;
    }

    /**
     * Early stopping that also stops at once on a value that is good enough, hopeless, or not a number.
     *
     * @return the callback
     */
    public static EarlyStopping withThresholds() {
        // snippet:thresholds
        EarlyStopping earlyStopping = EarlyStopping.builder("val_loss")
                .stoppingThreshold(0.02)     // good enough: stop as soon as val_loss < 0.02
                .divergenceThreshold(1.0)    // hopeless: stop as soon as val_loss > 1.0
                .checkFinite(true)           // a NaN or infinite val_loss stops too (the default)
                .build();
        // end-snippet:thresholds
        return earlyStopping;
    }

    /**
     * Early stopping on a metric that the training steps log per epoch, checked when the training epoch ends.
     *
     * @return the callback
     */
    public static EarlyStopping onATrainingMetric() {
        // snippet:train-epoch-end
        // in trainingStep: log("train_loss", loss, LogOptions.defaults().onStep(false).onEpoch(true));
        EarlyStopping earlyStopping = EarlyStopping.builder("train_loss").checkOnTrainEpochEnd(true).build();
        // end-snippet:train-epoch-end
        return earlyStopping;
    }

    /**
     * The subclass that checks once per training epoch, with validation twice per epoch.
     *
     * @return the Trainer
     */
    public static Trainer checkedOncePerEpoch() {
        // snippet:subclass-use
        Trainer trainer = Trainer.builder()
                .valCheckInterval(0.5)   // validation twice per epoch
                .callbacks(new EpochEndEarlyStopping(EarlyStopping.builder("val_loss").patience(3)))
                .build();
        // end-snippet:subclass-use
        return trainer;
    }

    /**
     * The tutorial's note: with validation every 10 epochs, patience 3 means at least 40 epochs.
     *
     * @return the Trainer
     */
    public static Trainer validatingEveryTenEpochs() {
        // snippet:patience-counts-checks
        Trainer trainer = Trainer.builder()
                .checkValEveryNEpoch(10)
                .callbacks(EarlyStopping.builder("val_loss").patience(3).build())
                .build();
        // end-snippet:patience-counts-checks
        return trainer;
    }
}
