/**
 * Data loading for training: reproducible, resumable, leak-free batches from DJL datasets.
 *
 * <ul>
 *   <li>{@link io.github.djllightning.data.DataLoader} turns a {@link ai.djl.training.dataset.RandomAccessDataset}
 *       (or ready-made batches) into the batches of each epoch, with an unbiased seeded shuffle whose order is a pure
 *       function of (seed, epoch), exact mid-epoch restarts, and optional background prefetch;
 *   <li>{@link io.github.djllightning.data.MnistDataset} reads the MNIST IDX files into resident native arrays;
 *   <li>{@link io.github.djllightning.data.Datasets#randomSplit} splits a dataset like {@code
 *       torch.utils.data.random_split}.
 * </ul>
 *
 * <p>Ownership rule: every {@link ai.djl.training.dataset.Batch} a loader hands out lives in a fresh sub-manager of
 * the manager the caller passed in, and the caller closes it.
 */
package io.github.djllightning.data;
