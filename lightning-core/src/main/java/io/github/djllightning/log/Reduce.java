package io.github.djllightning.log;

/** How the values a metric takes within an epoch are reduced to its epoch value ({@code reduce_fx}). */
public enum Reduce {
    /** The batch-size weighted mean: sum(value * batch size) / sum(batch size). */
    MEAN,
    /** The sum of the values; the batch size is ignored. */
    SUM,
    /** The largest value. */
    MAX,
    /** The smallest value. */
    MIN
}
