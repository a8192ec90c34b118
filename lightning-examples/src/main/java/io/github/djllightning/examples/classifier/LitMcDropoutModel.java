package io.github.djllightning.examples.classifier;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.nn.Block;
import ai.djl.nn.norm.Dropout;
import ai.djl.training.ParameterStore;
import ai.djl.training.dataset.Batch;
import io.github.djllightning.module.LightningModule;

/**
 * Monte Carlo dropout at prediction time (the seed's {@code LitMCdropoutModel}): a trained model's outputs go through
 * a dropout layer that stays active while predicting, {@code mcIteration} times, and the prediction is their mean.
 * The spread of the draws tells how sure the model is.
 */
public class LitMcDropoutModel extends LightningModule {

    private final Block model;
    private final Block dropout;
    private final int mcIteration;

    /**
     * Wraps a trained model.
     *
     * @param model the trained model (a LightningModule is a Block too)
     * @param mcIteration how many dropout draws each prediction averages
     */
    public LitMcDropoutModel(Block model, int mcIteration) {
        if (mcIteration < 1) {
            throw new IllegalArgumentException("mcIteration must be at least 1, got " + mcIteration);
        }
        this.model = addChildBlock("model", model);
        this.dropout = addChildBlock("dropout", Dropout.builder().optRate(0.5f).build());
        this.mcIteration = mcIteration;
    }

    // snippet:predict-step
    /**
     * The mean of {@code mcIteration} dropout draws of the model's class probabilities.
     *
     * @return an array of shape {@code (batch, classes)}
     */
    @Override
    public Object predictStep(Batch batch, int batchIdx, int dataloaderIdx) {
        NDArray logits = forward(model, batch.getData().head());
        // the dropout stays in training mode while the module predicts: that is the point of MC dropout
        ParameterStore store = new ParameterStore(batch.getManager(), false);
        NDArray sum = null;
        for (int i = 0; i < mcIteration; i++) {
            NDArray probabilities = dropout.forward(store, new NDList(logits), true).head().softmax(1);
            sum = sum == null ? probabilities : sum.add(probabilities);
        }
        return sum.div(mcIteration);
    }
    // end-snippet:predict-step
}
