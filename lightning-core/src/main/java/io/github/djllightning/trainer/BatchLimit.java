package io.github.djllightning.trainer;

/**
 * How many batches of a loader to use: a count, or a fraction of the loader. Lightning's int-or-float limits: the
 * integer {@code 1} means one batch, the fraction {@code 1.0} means all of them.
 */
public final class BatchLimit {

    /** All batches. */
    public static final BatchLimit ALL = new BatchLimit(true, 1.0, 0);
    /** No batches: the loop is switched off. */
    public static final BatchLimit NONE = new BatchLimit(false, 0, 0);

    private final boolean fraction;
    private final double share;
    private final long count;

    private BatchLimit(boolean fraction, double share, long count) {
        this.fraction = fraction;
        this.share = share;
        this.count = count;
    }

    /**
     * A fixed number of batches.
     *
     * @param count the number of batches, at least 0
     * @return the limit
     */
    public static BatchLimit count(long count) {
        if (count < 0) {
            throw new IllegalArgumentException("a batch count must be at least 0, got " + count);
        }
        return count == 0 ? NONE : new BatchLimit(false, 0, count);
    }

    /**
     * A share of the loader's batches.
     *
     * @param share between 0.0 and 1.0
     * @return the limit
     */
    public static BatchLimit fraction(double share) {
        if (!(share >= 0.0 && share <= 1.0)) {
            throw new IllegalArgumentException("a batch fraction must be within [0.0, 1.0], got " + share);
        }
        return share == 1.0 ? ALL : new BatchLimit(true, share, 0);
    }

    /**
     * Lightning's rule for a float flag: a fraction within [0, 1], or a whole number above 1 meaning a count.
     *
     * @param flag the flag's name, for the error message
     * @param value the value
     * @return the limit
     */
    static BatchLimit ofDouble(String flag, double value) {
        if (value >= 0.0 && value <= 1.0) {
            return fraction(value);
        }
        if (value > 1.0 && value == Math.rint(value) && value < Long.MAX_VALUE) {
            return count((long) value);
        }
        throw new IllegalArgumentException(
                flag + " must be a fraction within [0.0, 1.0] or a whole number of batches, got " + value);
    }

    /** Whether this is a share of the loader rather than a count. */
    public boolean isFraction() {
        return fraction;
    }

    /** The share, for a fraction. */
    public double share() {
        return share;
    }

    /** The count, for a count. */
    public long count() {
        return count;
    }

    /** Whether no batch at all is used. */
    public boolean isZero() {
        return fraction ? share == 0.0 : count == 0;
    }

    /**
     * The number of batches to use from a loader of the given length, Lightning's {@code _parse_num_batches}.
     *
     * @param length the loader's number of batches, or -1 when unknown
     * @param flag the flag's name, for error messages
     * @return the number of batches, or -1 for all of an unknown number
     */
    public long resolve(long length, String flag) {
        if (length == 0) {
            return 0;
        }
        if (!fraction) {
            return length < 0 ? count : Math.min(length, count);
        }
        if (length < 0) {
            if (share == 1.0) {
                return -1;
            }
            throw new IllegalArgumentException(
                    flag + "=" + share + " needs a loader with a known number of batches; with a plain Iterable use"
                            + " 1.0 or a whole number of batches.");
        }
        long n = (long) (length * share);
        if (n == 0 && share > 0.0) {
            throw new IllegalArgumentException(
                    "You requested " + flag + "=" + share + " of a loader with " + length + " batches, which is less"
                            + " than one batch. Increase it to at least " + flag + "=" + (1.0 / length) + ".");
        }
        return n;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof BatchLimit)) {
            return false;
        }
        BatchLimit that = (BatchLimit) o;
        return fraction == that.fraction && share == that.share && count == that.count;
    }

    @Override
    public int hashCode() {
        return fraction ? Double.hashCode(share) : Long.hashCode(count) * 31;
    }

    /** Lightning's notation: {@code 0.25} for a fraction, {@code 10} for a count. */
    @Override
    public String toString() {
        return fraction ? Double.toString(share) : Long.toString(count);
    }
}
