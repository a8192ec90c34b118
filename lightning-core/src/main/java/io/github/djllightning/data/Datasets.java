package io.github.djllightning.data;

import ai.djl.training.dataset.ArrayDataset;
import ai.djl.training.dataset.RandomAccessDataset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Operations on whole datasets, such as splitting one into training and validation parts reproducibly.
 */
public final class Datasets {

    private static final Logger LOG = LoggerFactory.getLogger(Datasets.class);

    /** How far fractions may sum from 1 and still count as fractions. */
    private static final double FRACTION_TOLERANCE = 1e-6;

    private Datasets() {}

    /**
     * Splits a dataset into non-overlapping random parts of the given fractions, like {@code
     * torch.utils.data.random_split(dataset, fractions, generator)}.
     *
     * <p>Each part gets {@code floor(size * fraction)} samples; the samples left over are then given one at a time
     * to the parts in order, round-robin (so 10 samples split {@code [0.33, 0.33, 0.34]} gives 4, 3, 3). Which
     * samples go where is a uniformly random permutation that depends only on {@code seed}.
     *
     * @param dataset the dataset to split; the parts are views of it, as for {@link #randomSplit(RandomAccessDataset,
     *     long[], long)}
     * @param fractions one fraction in {@code [0, 1]} per part, summing to 1 (within 1e-6)
     * @param seed determines the assignment of samples to parts
     * @return the parts, in the order of {@code fractions}
     * @throws IllegalArgumentException if the fractions are missing, out of range or do not sum to 1
     */
    public static RandomAccessDataset[] randomSplit(RandomAccessDataset dataset, double[] fractions, long seed) {
        Objects.requireNonNull(dataset, "dataset");
        return randomSplit(dataset, splitSizes(dataset.size(), fractions), seed);
    }

    /**
     * Splits a dataset into non-overlapping random parts of the given sizes, like {@code
     * torch.utils.data.random_split(dataset, lengths, generator)}.
     *
     * @param dataset the dataset to split; the parts are views of it from {@code subDataset(List)}, except for a plain
     *     {@code ArrayDataset}, whose parts are equivalent views that keep {@link DataLoader}'s native gather path
     * @param sizes one size {@code >= 0} per part, summing to the dataset's size
     * @param seed determines the assignment of samples to parts
     * @return the parts, in the order of {@code sizes}
     * @throws IllegalArgumentException if the sizes are missing, negative or do not sum to the dataset's size
     */
    public static RandomAccessDataset[] randomSplit(RandomAccessDataset dataset, long[] sizes, long seed) {
        Objects.requireNonNull(dataset, "dataset");
        if (sizes == null || sizes.length == 0) {
            throw new IllegalArgumentException("randomSplit needs at least one size, got " + Arrays.toString(sizes));
        }
        long total = dataset.size();
        long sum = 0;
        for (int i = 0; i < sizes.length; i++) {
            if (sizes[i] < 0) {
                throw new IllegalArgumentException(
                        "randomSplit sizes must be >= 0, got " + sizes[i] + " at index " + i + " of "
                                + Arrays.toString(sizes));
            }
            sum += sizes[i];
        }
        if (sum != total) {
            throw new IllegalArgumentException(
                    "randomSplit sizes "
                            + Arrays.toString(sizes)
                            + " sum to "
                            + sum
                            + ", but the dataset has "
                            + total
                            + " samples; give sizes that sum to "
                            + total
                            + " or fractions that sum to 1");
        }
        if (total > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("randomSplit supports up to " + (Integer.MAX_VALUE - 8)
                    + " samples, got " + total);
        }
        long[] order = Shuffle.permutation((int) total, seed, Shuffle.SPLIT_STREAM, 0);
        RandomAccessDataset[] parts = new RandomAccessDataset[sizes.length];
        int offset = 0;
        for (int i = 0; i < sizes.length; i++) {
            int length = (int) sizes[i];
            List<Long> indices = new ArrayList<>(length);
            for (int j = offset; j < offset + length; j++) {
                indices.add(order[j]);
            }
            parts[i] = subset(dataset, indices);
            offset += length;
        }
        return parts;
    }

    /**
     * A plain {@code ArrayDataset}'s own {@code subDataset(List)} would give a view that needs a Java index array per
     * batch; a resident-aware view keeps {@link DataLoader}'s native gather path and otherwise behaves the same.
     */
    private static RandomAccessDataset subset(RandomAccessDataset dataset, List<Long> indices) {
        if (dataset.getClass() == ArrayDataset.class) {
            return ResidentSubset.of(new ResidentView((ArrayDataset) dataset, null), indices);
        }
        return dataset.subDataset(indices);
    }

    /**
     * Turns fractions into sizes with torch's {@code random_split} rule: floor each share, then hand out the
     * remaining samples one each to the parts in order, round-robin.
     *
     * @param total the number of samples
     * @param fractions one fraction in {@code [0, 1]} per part, summing to 1 (within 1e-6)
     * @return the size of each part, summing to {@code total}
     * @throws IllegalArgumentException if the fractions are missing, out of range or do not sum to 1
     */
    public static long[] splitSizes(long total, double[] fractions) {
        if (fractions == null || fractions.length == 0) {
            throw new IllegalArgumentException(
                    "randomSplit needs at least one fraction, got " + Arrays.toString(fractions));
        }
        if (total < 0) {
            throw new IllegalArgumentException("total must be >= 0, got " + total);
        }
        double sum = 0;
        for (int i = 0; i < fractions.length; i++) {
            double f = fractions[i];
            if (!(f >= 0 && f <= 1)) {
                throw new IllegalArgumentException(
                        "randomSplit fraction at index " + i + " is " + f + ", not between 0 and 1, in "
                                + Arrays.toString(fractions));
            }
            sum += f;
        }
        if (Math.abs(sum - 1) > FRACTION_TOLERANCE) {
            throw new IllegalArgumentException(
                    "randomSplit fractions "
                            + Arrays.toString(fractions)
                            + " sum to "
                            + sum
                            + ", not 1; give fractions that sum to 1 or absolute sizes");
        }
        long[] sizes = new long[fractions.length];
        long assigned = 0;
        for (int i = 0; i < fractions.length; i++) {
            sizes[i] = (long) Math.floor(total * fractions[i]);
            assigned += sizes[i];
        }
        long remainder = total - assigned;
        for (int i = 0; remainder > 0; i = (i + 1) % sizes.length, remainder--) {
            sizes[i]++;
        }
        // Fractions a hair above 1 (within the tolerance) can overshoot; take the excess back from the last parts.
        for (int i = sizes.length - 1; remainder < 0; i = (i + sizes.length - 1) % sizes.length) {
            if (sizes[i] > 0) {
                sizes[i]--;
                remainder++;
            }
        }
        for (int i = 0; i < sizes.length; i++) {
            if (sizes[i] == 0) {
                LOG.warn(
                        "randomSplit: part {} of fractions {} gets no samples of {}",
                        i,
                        Arrays.toString(fractions),
                        total);
            }
        }
        return sizes;
    }
}
