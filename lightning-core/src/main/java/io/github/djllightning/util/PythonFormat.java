package io.github.djllightning.util;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Writes numbers the way Python does, so that file names, CSV cells and terminal lines of this library read the same
 * as Lightning's: {@code 0.1}, {@code 1.0}, {@code 1e-05}, {@code 1.5e+16}, {@code nan}, {@code inf}.
 *
 * <p>The digits are the shortest decimal that reads back as the same double; the notation is positional when the
 * decimal exponent lies in [-5, 15] and scientific (at least two exponent digits) otherwise, as in Python.
 */
public final class PythonFormat {

    private static final Pattern SPEC = Pattern.compile("(0)?(\\d+)?(?:\\.(\\d+))?([dfeEgG%])?");

    private static final MathContext[] PRECISIONS = new MathContext[18];

    static {
        for (int p = 1; p < PRECISIONS.length; p++) {
            PRECISIONS[p] = new MathContext(p, RoundingMode.HALF_EVEN);
        }
    }

    private PythonFormat() {}

    /**
     * Formats a double like Python's {@code repr(float)}.
     *
     * @param value the value
     * @return e.g. {@code "0.1"}, {@code "3.0"}, {@code "1e-05"}, {@code "nan"}, {@code "-inf"}
     */
    public static String repr(double value) {
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
     * @return e.g. {@code "3"}, or the {@linkplain #repr repr} of a fractional value
     */
    public static String integral(double value) {
        if (value == Math.rint(value) && Math.abs(value) < 1e18) {
            return Long.toString((long) value);
        }
        return repr(value);
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
    /**
     * Python's {@code format(value, spec)} for the specs used in checkpoint file names.
     *
     * @param value an integer ({@code Long}/{@code Integer}) or a floating value
     * @param spec the format spec after the colon, possibly empty
     * @return the formatted value
     */
    public static String format(Number value, String spec) {
        boolean integral = value instanceof Long || value instanceof Integer;
        if (spec == null || spec.isEmpty()) {
            return integral ? Long.toString(value.longValue()) : repr(value.doubleValue());
        }
        Matcher m = SPEC.matcher(spec);
        if (!m.matches()) {
            throw new IllegalArgumentException("unsupported format spec '" + spec + "'");
        }
        String zero = m.group(1) != null ? "0" : "";
        String width = m.group(2) != null ? m.group(2) : "";
        String precision = m.group(3);
        String type = m.group(4) == null ? (integral ? "d" : "g") : m.group(4);
        switch (type) {
            case "d":
                return String.format(Locale.ROOT, "%" + zero + width + "d", Math.round(value.doubleValue()));
            case "f":
            case "e":
            case "E":
                return String.format(
                        Locale.ROOT,
                        "%" + zero + width + "." + (precision == null ? "6" : precision) + type,
                        value.doubleValue());
            case "%":
                return String.format(
                        Locale.ROOT, "%" + zero + width + "." + (precision == null ? "6" : precision) + "f%%",
                        value.doubleValue() * 100);
            default:
                String out = general(value.doubleValue(), precision == null ? 6 : Math.max(1, Integer.parseInt(precision)));
                if ("G".equals(type)) {
                    out = out.toUpperCase(Locale.ROOT);
                }
                return pad(out, zero, width);
        }
    }

    private static String pad(String text, String zero, String width) {
        if (width.isEmpty() || text.length() >= Integer.parseInt(width)) {
            return text;
        }
        String padding = (zero.isEmpty() ? " " : "0").repeat(Integer.parseInt(width) - text.length());
        if (zero.isEmpty()) {
            return padding + text;
        }
        return text.startsWith("-") ? "-" + padding + text.substring(1) : padding + text;
    }

}
