package io.github.djllightning.examples.guide;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.dataset.Dataset.Usage;
import ai.djl.training.dataset.RandomAccessDataset;
import io.github.djllightning.data.Datasets;
import io.github.djllightning.data.MnistDataset;
import io.github.djllightning.module.LightningModule;
import java.io.IOException;

/** Small MNIST slices and measurements shared by the tests of the guide's samples. */
final class GuideData {

    private GuideData() {}

    /** The first {@code count} MNIST training images. */
    static MnistDataset train(int count) throws IOException {
        return MnistDataset.builder().usage(Usage.TRAIN).limit(count).build();
    }

    /** The first {@code count} MNIST test images. */
    static MnistDataset test(int count) throws IOException {
        return MnistDataset.builder().usage(Usage.TEST).limit(count).build();
    }

    /** A fixed subset of {@code count} samples of a dataset. */
    static RandomAccessDataset subset(RandomAccessDataset dataset, int count) {
        return Datasets.randomSplit(dataset, new long[] {count, dataset.size() - count}, 0)[0];
    }

    /** The first {@code count} MNIST test images, flattened to rows of 784 pixels in [0, 1]. */
    static NDArray testImages(NDManager manager, int count) throws IOException {
        try (MnistDataset test = MnistDataset.builder().usage(Usage.TEST).limit(count).build()) {
            float[] pixels = new float[count * 28 * 28];
            for (int i = 0; i < count; i++) {
                try (NDManager scope = manager.newSubManager()) {
                    float[] image = test.get(scope, i).getData().head().toFloatArray();
                    System.arraycopy(image, 0, pixels, i * 28 * 28, 28 * 28);
                }
            }
            return manager.create(pixels).reshape(count, 28 * 28);
        }
    }

    /**
     * The mean squared error of an autoencoder module's reconstruction, through its {@code "encoder"} and {@code
     * "decoder"} children.
     */
    static double reconstructionMse(LightningModule autoencoder, NDArray images) {
        NDArray code = autoencoder.forward(autoencoder.child("encoder"), images);
        NDArray reconstruction = autoencoder.forward(autoencoder.child("decoder"), code);
        return reconstruction.sub(images).square().mean().getFloat();
    }

    /** The error of a model that outputs all zeros: the mean of the squared pixels. */
    static double zeroOutputMse(NDArray images) {
        return images.square().mean().getFloat();
    }
}
