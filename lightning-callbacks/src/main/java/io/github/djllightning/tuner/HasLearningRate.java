package io.github.djllightning.tuner;

/**
 * A module whose learning rate the learning-rate finder can read and set: the typed alternative to recording the
 * rate as the hyperparameter {@code "lr"} or {@code "learning_rate"}.
 *
 * <pre>{@code
 * class LitClassifier extends LightningModule implements HasLearningRate {
 *     private double lr = 1e-3;
 *
 *     public double learningRate() { return lr; }
 *     public void setLearningRate(double lr) { this.lr = lr; }
 *
 *     public OptimizerConfig configureOptimizers() { return OptimizerConfig.of(new Adam(parameters(), lr)); }
 * }
 * }</pre>
 *
 * <p>{@code configureOptimizers} must read the value it holds, so that the next fit trains with the rate the finder
 * set.
 */
public interface HasLearningRate {

    /**
     * Returns the learning rate the module's optimizer is built with.
     *
     * @return the learning rate
     */
    double learningRate();

    /**
     * Sets the learning rate the module's optimizer is built with from now on.
     *
     * @param lr the new learning rate, finite and {@code > 0}
     */
    void setLearningRate(double lr);
}
