package io.github.djllightning.log;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;

/**
 * Writes numbers the way Python's {@code repr} writes floats, so that the files and terminal lines of this library
 * read the same as Lightning's: {@code 0.1}, {@code 1.0}, {@code 1e-05}, {@code 1.5e+16}, {@code nan}, {@code inf}.
 *
 * <p>The digits are the shortest decimal that reads back as the same double; the notation is positional when the
 * decimal exponent lies in [-5, 15] and scientific (at least two exponent digits) otherwise, as in Python.
 */
public final class CsvNumbers {

    private static final MathContext[] PRECISIONS = new MathContext[18];

    static {
        for (int p = 1; p < PRECISIONS.length; p++) {
            PRECISIONS[p] = new MathContext(p, RoundingMode.HALF_EVEN);
        }
    }

    private CsvNumbers() {}

    /**
     * Formats a double like Python's {@code repr(float)}.
     *
     * @param value the value
     * @return e.g. {@code "0.1"}, {@code "3.0"}, {@code "1e-05"}, {@code "nan"}, {@code "-inf"}
     */
    public static String pythonRepr(double value) {
        if (Double.isNaN(value)) {
            return "nan";
        }
        if (Double.isInfinite(value)) {
            return value > 0 ? "inf" : "-inf";
        }
        if (value == 0) {
            return (Double.doubleToRawLongBits(value) < 0) ? "-0.0" : "0.0";
        }
        BigDecimal shortest = shortest(value);
        String digits = shortest.unscaledValue().abs().toString();
        // value = 0.<digits> * 10^pointPosition
        int pointPosition = digits.length() - shortest.scale();
        StringBuilder out = new StringBuilder(24);
        if (value < 0) {
            out.append('-');
        }
        int exponent = pointPosition - 1;
        if (exponent < -4 || exponent >= 16) {
            out.append(digits.charAt(0));
            if (digits.length() > 1) {
                out.append('.').append(digits, 1, digits.length());
            }
            appendExponent(out, exponent);
        } else if (pointPosition <= 0) {
            out.append("0.");
            for (int i = pointPosition; i < 0; i++) {
                out.append('0');
            }
            out.append(digits);
        } else if (pointPosition >= digits.length()) {
            out.append(digits);
            for (int i = digits.length(); i < pointPosition; i++) {
                out.append('0');
            }
            out.append(".0");
        } else {
            out.append(digits, 0, pointPosition).append('.').append(digits, pointPosition, digits.length());
        }
        return out.toString();
    }

    /**
     * Formats a double with the given number of significant digits like Python's {@code format(value, ".<n>g")}:
     * trailing zeros dropped, scientific notation when the exponent is below -4 or at least {@code significant}.
     *
     * @param value the value
     * @param significant the number of significant digits, 1 to 17
     * @return e.g. {@code "0.123"}, {@code "1.23e+03"}, {@code "nan"}
     */
    public static String general(double value, int significant) {
        if (significant < 1 || significant >= PRECISIONS.length) {
            throw new IllegalArgumentException("significant digits must be in [1, 17], got " + significant);
        }
        if (Double.isNaN(value)) {
            return "nan";
        }
        if (Double.isInfinite(value)) {
            return value > 0 ? "inf" : "-inf";
        }
        if (value == 0) {
            return (Double.doubleToRawLongBits(value) < 0) ? "-0" : "0";
        }
        BigDecimal rounded = new BigDecimal(value).round(PRECISIONS[significant]);
        BigDecimal stripped = rounded.stripTrailingZeros();
        String digits = stripped.unscaledValue().abs().toString();
        int exponent = rounded.precision() - rounded.scale() - 1;
        StringBuilder out = new StringBuilder(16);
        if (value < 0) {
            out.append('-');
        }
        if (exponent < -4 || exponent >= significant) {
            out.append(digits.charAt(0));
            if (digits.length() > 1) {
                out.append('.').append(digits, 1, digits.length());
            }
            appendExponent(out, exponent);
        } else {
            out.append(stripped.abs().toPlainString());
        }
        return out.toString();
    }

    /**
     * Formats a value of the {@code epoch} or {@code step} column: an integer when the value is whole.
     *
     * @param value the value
     * @return e.g. {@code "3"}, or the {@linkplain #pythonRepr repr} of a fractional value
     */
    public static String integral(double value) {
        if (value == Math.rint(value) && Math.abs(value) < 1e18) {
            return Long.toString((long) value);
        }
        return pythonRepr(value);
    }

    private static BigDecimal shortest(double value) {
        BigDecimal exact = new BigDecimal(value);
        for (int p = 1; p < PRECISIONS.length; p++) {
            BigDecimal candidate = exact.round(PRECISIONS[p]);
            if (candidate.doubleValue() == value) {
                return candidate.stripTrailingZeros();
            }
        }
        return exact.round(PRECISIONS[17]).stripTrailingZeros();
    }

    private static void appendExponent(StringBuilder out, int exponent) {
        out.append('e').append(exponent < 0 ? '-' : '+');
        int magnitude = Math.abs(exponent);
        if (magnitude < 10) {
            out.append('0');
        }
        out.append(magnitude);
    }
}
