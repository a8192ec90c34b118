package io.github.djllightning.callbacks;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.dataset.Batch;
import ai.djl.training.dataset.Dataset.Usage;
import io.github.djllightning.data.DataLoader;
import io.github.djllightning.data.MnistDataset;
import io.github.djllightning.log.LogOptions;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.optim.LrScheduler;
import io.github.djllightning.optim.OptimizerConfig;
import io.github.djllightning.trainer.LightningOptimizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * The seed's MNIST autoencoder, small (784 -> 16 -> 3 -> 16 -> 784), with the optimizers a test hands in. With
 * manual optimization it steps every optimizer at every batch and every scheduler at each epoch's end.
 */
final class TinyAutoEncoder extends LightningModule {

    private final Block encoder = addChildBlock("encoder", new SequentialBlock()
            .add(Linear.builder().setUnits(16).build())
            .add(Activation::relu)
            .add(Linear.builder().setUnits(3).build()));
    private final Block decoder = addChildBlock("decoder", new SequentialBlock()
            .add(Linear.builder().setUnits(16).build())
            .add(Activation::relu)
            .add(Linear.builder().setUnits(784).build()));
    private final Function<TinyAutoEncoder, OptimizerConfig> optimizers;

    TinyAutoEncoder(Function<TinyAutoEncoder, OptimizerConfig> optimizers) {
        this(optimizers, true);
    }

    TinyAutoEncoder(Function<TinyAutoEncoder, OptimizerConfig> optimizers, boolean automatic) {
        this.optimizers = optimizers;
        setAutomaticOptimization(automatic);
    }

    /**
     * {@code count} real MNIST training images in batches of 16, in order.
     *
     * @param count the number of images
     * @return the loader
     */
    static DataLoader mnist(int count) {
        try {
            MnistDataset data = MnistDataset.builder().usage(Usage.TRAIN).limit(count).build();
            return DataLoader.of(data).batchSize(16).build();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The encoder's parameters, for param groups. */
    List<Parameter> encoderParameters() {
        return new ArrayList<>(encoder.getParameters().values());
    }

    /** The decoder's parameters, for param groups. */
    List<Parameter> decoderParameters() {
        return new ArrayList<>(decoder.getParameters().values());
    }

    private NDArray loss(Batch batch) {
        NDArray x = batch.getData().head().reshape(-1, 784);
        return forward(decoder, forward(encoder, x)).sub(x).square().mean();
    }

    @Override
    public NDArray trainingStep(Batch batch, int batchIdx) {
        NDArray loss = loss(batch);
        log("train_loss", loss, LogOptions.defaults().onStep(true).onEpoch(true));
        if (isAutomaticOptimization()) {
            return loss;
        }
        List<LightningOptimizer> all = optimizers();
        for (LightningOptimizer optimizer : all) {
            optimizer.zeroGrad();
        }
        manualBackward(loss);
        for (LightningOptimizer optimizer : all) {
            optimizer.step();
        }
        return null;
    }

    @Override
    public Object validationStep(Batch batch, int batchIdx) {
        log("val_loss", loss(batch));
        return null;
    }

    @Override
    public void onTrainEpochEnd() {
        if (!isAutomaticOptimization()) {
            for (LrScheduler scheduler : lrSchedulers()) {
                scheduler.step();
            }
        }
    }

    @Override
    public OptimizerConfig configureOptimizers() {
        return optimizers.apply(this);
    }
}
