package io.github.djllightning.util;

import java.math.BigDecimal;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Formats numbers the way Python does, so file names and CSV cells read the same as Lightning's: {@code repr} of a
 * float ({@code 0.1}, {@code 1e-05}, {@code 1.0}) and the common format specs ({@code 02d}, {@code .2f}, {@code .3e},
 * {@code .3g}).
 */
public final class PythonFormat {

    private static final Pattern SPEC = Pattern.compile("(0)?(\\d+)?(?:\\.(\\d+))?([dfeEgG%])?");

    private PythonFormat() {}

    /**
     * Python's {@code repr(float)}.
     *
     * @param value the value
     * @return e.g. {@code 0.1}, {@code 1e-05}, {@code 1.0}, {@code nan}, {@code inf}
     */
    public static String repr(double value) {
        if (Double.isNaN(value)) {
            return "nan";
        }
        if (Double.isInfinite(value)) {
            return value > 0 ? "inf" : "-inf";
        }
        if (value == 0) {
            return 1 / value < 0 ? "-0.0" : "0.0";
        }
        BigDecimal shortest = new BigDecimal(Double.toString(value)).stripTrailingZeros();
        int exponent = shortest.precision() - shortest.scale() - 1;
        if (exponent >= -5 && exponent < 16) {
            String plain = shortest.toPlainString();
            return plain.contains(".") ? plain : plain + ".0";
        }
        String digits = shortest.unscaledValue().abs().toString();
        String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
        String sign = value < 0 ? "-" : "";
        String expSign = exponent < 0 ? "-" : "+";
        int absExp = Math.abs(exponent);
        return sign + mantissa + "e" + expSign + (absExp < 10 ? "0" : "") + absExp;
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
                return general(value.doubleValue(), precision == null ? 6 : Math.max(1, Integer.parseInt(precision)),
                        zero, width, type);
        }
    }

    private static String general(double value, int precision, String zero, String width, String type) {
        if (value == 0 || Double.isNaN(value) || Double.isInfinite(value)) {
            return repr(value).replace(".0", "");
        }
        int exponent = (int) Math.floor(Math.log10(Math.abs(value)));
        String out;
        if (exponent >= -4 && exponent < precision) {
            out = new BigDecimal(value).round(new java.math.MathContext(precision)).stripTrailingZeros()
                    .toPlainString();
        } else {
            String sci = String.format(Locale.ROOT, "%." + (precision - 1) + "e", value);
            String mantissa = sci.substring(0, sci.indexOf('e'));
            if (mantissa.contains(".")) {
                mantissa = mantissa.replaceAll("0+$", "").replaceAll("\\.$", "");
            }
            out = mantissa + sci.substring(sci.indexOf('e'));
        }
        if ("G".equals(type)) {
            out = out.toUpperCase(Locale.ROOT);
        }
        if (!width.isEmpty() && out.length() < Integer.parseInt(width)) {
            String pad = (zero.isEmpty() ? " " : "0").repeat(Integer.parseInt(width) - out.length());
            out = zero.isEmpty() ? pad + out : (out.startsWith("-") ? "-" + pad + out.substring(1) : pad + out);
        }
        return out;
    }
}
