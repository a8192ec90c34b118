package io.github.djllightning.loggers;

/**
 * A histogram of values as TensorBoard draws it: the statistics of the values and equal-width buckets between their
 * minimum and maximum. Bucket {@code i} ends at {@code bucketLimits[i]}; a value on an inner edge counts in the upper
 * bucket, the maximum in the last. Values that are NaN or infinite are left out of everything.
 *
 * @param min the smallest value (0 without values)
 * @param max the largest value (0 without values)
 * @param count the number of values
 * @param sum the sum of the values
 * @param sumSquares the sum of their squares
 * @param bucketLimits the right edge of each bucket
 * @param bucketCounts the number of values in each bucket
 */
record Histogram(double min, double max, double count, double sum, double sumSquares, double[] bucketLimits,
        double[] bucketCounts) {

    /** The number of buckets of a histogram whose values are not all equal. */
    static final int BUCKETS = 30;

    /** The histogram of the finite values among these. */
    static Histogram of(float[] values) {
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        double sum = 0;
        double sumSquares = 0;
        int count = 0;
        for (float value : values) {
            if (Float.isFinite(value)) {
                min = Math.min(min, value);
                max = Math.max(max, value);
                sum += value;
                sumSquares += (double) value * value;
                count++;
            }
        }
        if (count == 0) {
            return new Histogram(0, 0, 0, 0, 0, new double[] {0}, new double[] {0});
        }
        if (min == max) {
            return new Histogram(min, max, count, sum, sumSquares, new double[] {max}, new double[] {count});
        }
        double width = (max - min) / BUCKETS;
        double[] limits = new double[BUCKETS];
        for (int i = 0; i < BUCKETS - 1; i++) {
            limits[i] = min + (i + 1) * width;
        }
        limits[BUCKETS - 1] = max;
        double[] counts = new double[BUCKETS];
        for (float value : values) {
            if (Float.isFinite(value)) {
                int bucket = (int) Math.min(BUCKETS - 1, Math.floor((value - min) / width));
                counts[bucket]++;
            }
        }
        return new Histogram(min, max, count, sum, sumSquares, limits, counts);
    }
}
