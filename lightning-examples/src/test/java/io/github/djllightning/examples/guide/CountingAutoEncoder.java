package io.github.djllightning.examples.guide;

import ai.djl.ndarray.NDArray;
import ai.djl.training.dataset.Batch;
import io.github.djllightning.examples.autoencoder.LitAutoEncoder;
import java.util.Map;

/**
 * The seed's autoencoder counting its training steps; on request it interrupts the fit (as SIGTERM would) or fails
 * after a given global step.
 */
class CountingAutoEncoder extends LitAutoEncoder {

    private int trainingSteps;
    private long interruptAfter = -1;
    private long failAfter = -1;

    CountingAutoEncoder() {
        super(encoder(), decoder());
    }

    /** Asks the Trainer to stop (reason {@code TERM}) once this many optimizer steps are done. */
    CountingAutoEncoder interruptAfter(long globalStep) {
        interruptAfter = globalStep;
        return this;
    }

    /** Throws from the training step that follows this many optimizer steps. */
    CountingAutoEncoder failAfter(long globalStep) {
        failAfter = globalStep;
        return this;
    }

    /** The training steps this module ran. */
    int trainingSteps() {
        return trainingSteps;
    }

    @Override
    public NDArray trainingStep(Batch batch, int batchIdx) {
        if (globalStep() == failAfter) {
            throw new IllegalStateException("a failure at global step " + failAfter);
        }
        trainingSteps++;
        return super.trainingStep(batch, batchIdx);
    }

    @Override
    public void onTrainBatchEnd(Map<String, Object> outputs, Batch batch, int batchIdx) {
        if (globalStep() == interruptAfter) {
            getTrainer().requestInterrupt("TERM");
        }
    }
}
