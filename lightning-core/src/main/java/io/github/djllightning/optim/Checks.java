package io.github.djllightning.optim;

/** Argument checks shared by the optimizers and schedulers, with messages that echo the value and the valid range. */
final class Checks {

    private Checks() {}

    static double nonNegative(String owner, String name, double value) {
        if (!(value >= 0) || Double.isInfinite(value)) {
            throw new IllegalArgumentException(
                    owner + " " + name + " must be a finite number >= 0, but was " + value);
        }
        return value;
    }

    static double positive(String owner, String name, double value) {
        if (!(value > 0) || Double.isInfinite(value)) {
            throw new IllegalArgumentException(
                    owner + " " + name + " must be a finite number > 0, but was " + value);
        }
        return value;
    }

    /** For betas and momentum factors: torch requires {@code 0 <= value < 1}. */
    static double unitInterval(String owner, String name, double value) {
        if (!(value >= 0 && value < 1)) {
            throw new IllegalArgumentException(owner + " " + name + " must be in [0, 1), but was " + value);
        }
        return value;
    }

    static double closedUnitInterval(String owner, String name, double value) {
        if (!(value >= 0 && value <= 1)) {
            throw new IllegalArgumentException(owner + " " + name + " must be in [0, 1], but was " + value);
        }
        return value;
    }

    static int positive(String owner, String name, int value) {
        if (value <= 0) {
            throw new IllegalArgumentException(owner + " " + name + " must be >= 1, but was " + value);
        }
        return value;
    }

    static int nonNegative(String owner, String name, int value) {
        if (value < 0) {
            throw new IllegalArgumentException(owner + " " + name + " must be >= 0, but was " + value);
        }
        return value;
    }

    static <T> T notNull(String owner, String name, T value) {
        if (value == null) {
            throw new IllegalArgumentException(owner + " " + name + " must not be null");
        }
        return value;
    }
}
