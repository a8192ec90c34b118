package io.github.djllightning.tuner;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.dataset.Batch;
import ai.djl.training.dataset.Dataset.Usage;
import ai.djl.training.loss.Loss;
import io.github.djllightning.data.DataLoader;
import io.github.djllightning.data.MnistDataset;
import io.github.djllightning.log.LogOptions;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.optim.OptimizerConfig;
import io.github.djllightning.optim.Sgd;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A tiny MNIST classifier for the tuner tests: 784 -> 32 -> relu -> 10, softmax cross-entropy, plain SGD. Its learning
 * rate and batch size are hyperparameters ({@code "lr"}, {@code "batch_size"}) that {@code configureOptimizers} and
 * {@code trainDataloader} read; it logs the epoch mean of {@code train_loss}. {@link Typed} keeps them in fields behind {@link HasLearningRate} and {@link
 * HasBatchSize} instead.
 */
public class MnistClassifier extends LightningModule {

    private static MnistDataset train;

    private final Block net = addChildBlock("net", new SequentialBlock()
            .add(Linear.builder().setUnits(32).build())
            .add(Activation::relu)
            .add(Linear.builder().setUnits(10).build()));
    private int configureOptimizersCalls;
    private long failAbove = Long.MAX_VALUE;

    /** A classifier with {@code lr} 0.05 and {@code batch_size} 32 as hyperparameters. */
    public MnistClassifier() {
        this(true);
    }

    /**
     * A classifier with or without the hyperparameters; without them it trains with lr 0.05 and batch size 32 and
     * gives the tuners nothing to set.
     *
     * @param withHparams whether to record {@code lr} and {@code batch_size}
     */
    public MnistClassifier(boolean withHparams) {
        if (withHparams) {
            Map<String, Object> hparams = new LinkedHashMap<>();
            hparams.put("lr", 0.05);
            hparams.put("batch_size", 32);
            saveHyperparameters(hparams);
        }
    }

    /** The first 512 MNIST training images, shared by the tests. */
    public static synchronized MnistDataset data() {
        if (train == null) {
            try {
                train = MnistDataset.builder().usage(Usage.TRAIN).limit(512).build();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return train;
    }

    /** A loader over {@link #data()}: shuffled with a fixed seed. */
    public static DataLoader loader(int batchSize) {
        return DataLoader.of(data()).batchSize(batchSize).shuffle(true).seed(3).build();
    }

    /**
     * Makes every training step with a batch larger than this ask the engine for an impossible amount of memory (16
     * TiB), as a model whose memory need outgrows the machine beyond that batch size would.
     */
    public MnistClassifier failAbove(long batchSize) {
        this.failAbove = batchSize;
        return this;
    }

    /** How often {@code configureOptimizers} ran. */
    public int configureOptimizersCalls() {
        return configureOptimizersCalls;
    }

    /** The learning rate the optimizer is built with: the hyperparameter, 0.05 without one. */
    protected double lr() {
        return ((Number) hparams().getOrDefault("lr", 0.05)).doubleValue();
    }

    /** The batch size the training loader is built with. */
    protected int trainBatchSize() {
        return ((Number) hparams().getOrDefault("batch_size", 32)).intValue();
    }

    @Override
    public NDArray trainingStep(Batch batch, int batchIdx) {
        NDArray x = batch.getData().head().reshape(-1, 784);
        if (x.getShape().get(0) > failAbove) {
            x.getManager().zeros(new Shape(1L << 42));
        }
        NDArray logits = forward(net, x);
        NDArray loss = Loss.softmaxCrossEntropyLoss().evaluate(batch.getLabels(), new NDList(logits));
        log("train_loss", loss, LogOptions.defaults().onStep(false).onEpoch(true));
        return loss;
    }

    @Override
    public OptimizerConfig configureOptimizers() {
        configureOptimizersCalls++;
        return OptimizerConfig.of(new Sgd(parameters(), lr()));
    }

    @Override
    public DataLoader trainDataloader() {
        return loader(trainBatchSize());
    }

    /** The same classifier keeping its learning rate and batch size in fields. */
    public static class Typed extends MnistClassifier implements HasLearningRate, HasBatchSize {
        private double lr = 0.05;
        private int batchSize = 32;

        /** A classifier with lr 0.05 and batch size 32, and no hyperparameters. */
        public Typed() {
            super(false);
        }

        @Override
        protected double lr() {
            return lr;
        }

        @Override
        protected int trainBatchSize() {
            return batchSize;
        }

        @Override
        public double learningRate() {
            return lr;
        }

        @Override
        public void setLearningRate(double value) {
            lr = value;
        }

        @Override
        public int batchSize() {
            return batchSize;
        }

        @Override
        public void setBatchSize(int value) {
            batchSize = value;
        }
    }
}
