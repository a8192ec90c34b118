package io.github.djllightning.data;

import java.util.SplittableRandom;

/**
 * Seeded, unbiased permutations for sample orders and dataset splits.
 *
 * <p>DJL's {@code RandomSampler} uses Sattolo's algorithm (only cyclic permutations) and a process-global RNG, so its
 * order can neither be uniform nor be recomputed after a restart. Here every permutation is a pure function of its
 * seed, which is what makes an exact mid-epoch resume possible.
 */
final class Shuffle {

    /** Separates the streams of different purposes that share one user seed. */
    static final long EPOCH_STREAM = 0x5DEECE66DL;

    /** The stream {@link Datasets#randomSplit} draws from. */
    static final long SPLIT_STREAM = 0x2545F4914F6CDD1DL;

    private Shuffle() {}

    /**
     * Returns {@code 0 .. n-1} in an order drawn uniformly from all {@code n!} permutations.
     *
     * @param n the number of elements
     * @param seed the user's seed
     * @param stream what the permutation is for, so the same seed gives unrelated orders for unrelated purposes
     * @param index e.g. the epoch; orders for different indices are independent
     * @return a fresh array holding the permutation
     */
    static long[] permutation(int n, long seed, long stream, long index) {
        long[] order = identity(n);
        shuffleInPlace(order, new SplittableRandom(mixSeed(seed, stream, index)));
        return order;
    }

    /**
     * Returns {@code 0 .. n-1} in ascending order.
     *
     * @param n the number of elements
     * @return a fresh array
     */
    static long[] identity(int n) {
        long[] order = new long[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        return order;
    }

    /**
     * Shuffles with Fisher–Yates (Durstenfeld's form): position {@code i} swaps with a uniform {@code j} in
     * {@code [0, i]}, including itself, which is exactly what makes every permutation equally likely.
     *
     * @param values the array to permute in place
     * @param random the source of randomness; {@code nextInt(bound)} is unbiased
     */
    static void shuffleInPlace(long[] values, SplittableRandom random) {
        for (int i = values.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            long tmp = values[i];
            values[i] = values[j];
            values[j] = tmp;
        }
    }

    /**
     * Derives a generator seed from (seed, stream, index) with a strong mixer, so neighbouring epochs or seeds do
     * not start from related generator states.
     */
    static long mixSeed(long seed, long stream, long index) {
        long h = mix64(seed ^ 0x9E3779B97F4A7C15L);
        h = mix64(h ^ stream);
        return mix64(h + index * 0xBF58476D1CE4E5B9L);
    }

    /** The finaliser of SplitMix64 / MurmurHash3: a bijection on 64-bit values with full avalanche. */
    private static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
