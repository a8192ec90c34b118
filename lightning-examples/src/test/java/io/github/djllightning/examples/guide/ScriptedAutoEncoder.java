package io.github.djllightning.examples.guide;

import ai.djl.ndarray.NDArray;
import ai.djl.training.dataset.Batch;
import io.github.djllightning.examples.autoencoder.LitAutoEncoder;
import io.github.djllightning.log.LogOptions;

/**
 * The seed's autoencoder logging a metric whose values the test chooses: the n-th validation run (or, for a training
 * metric, the n-th epoch) logs the n-th value, the last one repeating. Early stopping then sees a known sequence.
 */
class ScriptedAutoEncoder extends LitAutoEncoder {

    private final String metric;
    private final boolean training;
    private final double[] values;
    private int validations;

    private ScriptedAutoEncoder(String metric, boolean training, double... values) {
        super(encoder(), decoder());
        this.metric = metric;
        this.training = training;
        this.values = values;
    }

    /** Logs {@code metric} in every validation step: the n-th value in the n-th validation run. */
    static ScriptedAutoEncoder validationMetric(String metric, double... values) {
        return new ScriptedAutoEncoder(metric, false, values);
    }

    /** Logs {@code metric} per epoch from the training steps: the n-th value in the n-th epoch. */
    static ScriptedAutoEncoder trainingMetric(String metric, double... values) {
        return new ScriptedAutoEncoder(metric, true, values);
    }

    private double value(int index) {
        return values[Math.min(index, values.length - 1)];
    }

    @Override
    public NDArray trainingStep(Batch batch, int batchIdx) {
        if (!training) {
            return super.trainingStep(batch, batchIdx);
        }
        log(metric, value(currentEpoch()), LogOptions.defaults().onStep(false).onEpoch(true));
        // the loss without logging it: the metric may be called train_loss too
        NDArray x = batch.getData().head().reshape(-1, 28 * 28);
        return forward(child("decoder"), forward(child("encoder"), x)).sub(x).square().mean();
    }

    @Override
    public Object validationStep(Batch batch, int batchIdx) {
        if (!training) {
            log(metric, value(validations));
        }
        return null;
    }

    @Override
    public void onValidationEnd() {
        if (!getTrainer().isSanityChecking()) {
            validations++;
        }
    }
}
