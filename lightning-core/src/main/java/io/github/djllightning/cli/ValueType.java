package io.github.djllightning.cli;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Function;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * The type of an option's value: how it is written on the command line and in YAML, converted to a canonical value
 * that YAML can print back ({@code Integer}, {@code Long}, {@code Float}, {@code Double}, {@code Boolean}, {@code
 * String}, a {@code List} of those, or null).
 *
 * <p>Command-line text is converted by the type itself, not by a YAML parser, so that {@code 01:00:00:00} stays a
 * duration and {@code no} stays a string.
 */
final class ValueType {

    private final String describe;
    private final Function<String, Object> fromText;
    private final Function<Object, Object> fromYaml;
    private final boolean flagOnly;

    private ValueType(String describe, Function<String, Object> fromText, Function<Object, Object> fromYaml,
            boolean flagOnly) {
        this.describe = describe;
        this.fromText = fromText;
        this.fromYaml = fromYaml;
        this.flagOnly = flagOnly;
    }

    /** How the help names the type. */
    String describe() {
        return describe;
    }

    /** Whether a bare flag without a value means true. */
    boolean isBoolean() {
        return flagOnly;
    }

    /**
     * Converts command-line text.
     *
     * @throws IllegalArgumentException saying what was expected
     */
    Object fromText(String text) {
        return fromText.apply(text);
    }

    /**
     * Converts a value read from a YAML file.
     *
     * @throws IllegalArgumentException saying what was expected
     */
    Object fromYaml(Object value) {
        return fromYaml.apply(value);
    }

    /** The same type that also takes {@code null} (text {@code null} or {@code none}). */
    ValueType nullable() {
        return new ValueType(describe + " | null",
                text -> isNullText(text) ? null : fromText.apply(text),
                value -> value == null ? null : fromYaml.apply(value), flagOnly);
    }

    private static boolean isNullText(String text) {
        return text.equalsIgnoreCase("null") || text.equalsIgnoreCase("none");
    }

    private static IllegalArgumentException expected(String what, Object got) {
        String shown = got instanceof String ? "'" + got + "'" : String.valueOf(got);
        return new IllegalArgumentException("expected " + what + ", got " + shown);
    }

    private static Object notNull(Object value, String what) {
        if (value == null) {
            throw expected(what, null);
        }
        return value;
    }

    // ------------------------------------------------------------------ the types

    /** A 32-bit integer. */
    static final ValueType INT = new ValueType("int", ValueType::parseInt, value -> {
        notNull(value, "an int");
        if (value instanceof Integer) {
            return value;
        }
        if (value instanceof Long && (Long) value == (int) (long) (Long) value) {
            return (int) (long) (Long) value;
        }
        throw expected("an int", value);
    }, false);

    /** A 64-bit integer. */
    static final ValueType LONG = new ValueType("long", text -> {
        try {
            return Long.parseLong(text.trim());
        } catch (NumberFormatException e) {
            throw expected("a long (a whole number)", text);
        }
    }, value -> {
        if (value instanceof Integer || value instanceof Long) {
            return ((Number) value).longValue();
        }
        throw expected("a long (a whole number)", value);
    }, false);

    /** A double. */
    static final ValueType DOUBLE = new ValueType("double", text -> parseDouble(text, "a double"), value -> {
        if (value instanceof Number) {
            return ((Number) value).doubleValue();
        }
        throw expected("a double", value);
    }, false);

    /** A float. */
    static final ValueType FLOAT = new ValueType("float", text -> (float) parseDouble(text, "a float"), value -> {
        if (value instanceof Number) {
            return ((Number) value).floatValue();
        }
        throw expected("a float", value);
    }, false);

    /** {@code true} or {@code false}. */
    static final ValueType BOOLEAN = new ValueType("bool", ValueType::parseBoolean, value -> {
        if (value instanceof Boolean) {
            return value;
        }
        throw expected("true or false", value);
    }, true);

    /** Any text. */
    static final ValueType STRING = new ValueType("str", text -> text, value -> {
        if (value instanceof String || value instanceof Number || value instanceof Boolean) {
            return value.toString();
        }
        throw expected("a string", value);
    }, false);

    /** Lightning's {@code "DD:HH:MM:SS"} durations. */
    static final ValueType DURATION = new ValueType("DD:HH:MM:SS", ValueType::parseDuration, value -> {
        if (value instanceof String) {
            return parseDuration((String) value);
        }
        throw expected("a quoted \"DD:HH:MM:SS\" string (e.g. \"00:12:00:00\"; quote it in YAML)", value);
    }, false);

    /** A number of batches (an int) or a share of them (a fraction such as 0.25; 1.0 means all). */
    static final ValueType BATCHES = new ValueType("int | fraction", text -> {
        String t = text.trim();
        if (t.contains(".") || t.contains("e") || t.contains("E")) {
            return parseDouble(t, "a number of batches (int) or a fraction such as 0.25");
        }
        try {
            return Integer.parseInt(t);
        } catch (NumberFormatException e) {
            throw expected("a number of batches (int) or a fraction such as 0.25", text);
        }
    }, value -> {
        if (value instanceof Integer || value instanceof Double) {
            return value;
        }
        if (value instanceof Long && (Long) value == (int) (long) (Long) value) {
            return (int) (long) (Long) value;
        }
        throw expected("a number of batches (int) or a fraction such as 0.25", value);
    }, false);

    /** {@code true}, {@code false} or a number (Lightning's {@code fast_dev_run}). */
    static final ValueType BOOLEAN_OR_INT = new ValueType("bool | int", text -> {
        String t = text.trim();
        if (t.equalsIgnoreCase("true") || t.equalsIgnoreCase("false")) {
            return Boolean.parseBoolean(t.toLowerCase(Locale.ROOT));
        }
        try {
            return Integer.parseInt(t);
        } catch (NumberFormatException e) {
            throw expected("true, false or a number of batches", text);
        }
    }, value -> {
        if (value instanceof Boolean || value instanceof Integer) {
            return value;
        }
        throw expected("true, false or a number of batches", value);
    }, true);

    /**
     * One of a fixed set of names, matched ignoring case.
     *
     * @param choices the names; the canonical value is the matching one
     */
    static ValueType oneOf(List<String> choices) {
        Function<String, Object> match = text -> {
            for (String choice : choices) {
                if (choice.equalsIgnoreCase(text.trim())) {
                    return choice;
                }
            }
            throw expected("one of " + choices, text);
        };
        return new ValueType("{" + String.join(",", choices) + "}", match, value -> {
            if (value instanceof String || value instanceof Number || value instanceof Boolean) {
                return match.apply(value.toString());
            }
            throw expected("one of " + choices, value);
        }, false);
    }

    /**
     * A constant of an enum, by name, ignoring case.
     *
     * @param type the enum
     */
    static ValueType enumOf(Class<?> type) {
        List<String> names = new ArrayList<>();
        for (Object constant : type.getEnumConstants()) {
            names.add(((Enum<?>) constant).name());
        }
        return oneOf(names);
    }

    /**
     * A list, written {@code [1, 2, 3]} (YAML flow style) or {@code 1,2,3} on the command line.
     *
     * @param element the type of the elements
     */
    static ValueType listOf(ValueType element) {
        return new ValueType("list[" + element.describe + "]", text -> {
            String t = text.trim();
            List<Object> out = new ArrayList<>();
            if (t.startsWith("[")) {
                Object parsed;
                try {
                    parsed = yaml().load(t);
                } catch (RuntimeException e) {
                    throw expected("a list such as [1, 2] or 1,2", text);
                }
                return fromYamlList(element, parsed);
            }
            if (!t.isEmpty()) {
                for (String item : t.split(",", -1)) {
                    out.add(element.fromText(item.trim()));
                }
            }
            return out;
        }, value -> fromYamlList(element, value), false);
    }

    private static List<Object> fromYamlList(ValueType element, Object value) {
        if (!(value instanceof Collection)) {
            throw expected("a list such as [1, 2]", value);
        }
        List<Object> out = new ArrayList<>();
        int i = 0;
        for (Object item : (Collection<?>) value) {
            try {
                out.add(element.fromYaml(item));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("item " + i + ": " + e.getMessage(), e);
            }
            i++;
        }
        return out;
    }

    // ------------------------------------------------------------------ parsing helpers

    private static Object parseInt(String text) {
        try {
            return Integer.parseInt(text.trim());
        } catch (NumberFormatException e) {
            throw expected("an int", text);
        }
    }

    private static double parseDouble(String text, String what) {
        String t = text.trim();
        if (t.equalsIgnoreCase("inf") || t.equalsIgnoreCase("+inf")) {
            return Double.POSITIVE_INFINITY;
        }
        if (t.equalsIgnoreCase("-inf")) {
            return Double.NEGATIVE_INFINITY;
        }
        if (t.equalsIgnoreCase("nan")) {
            return Double.NaN;
        }
        try {
            if (t.isEmpty() || !t.matches("[-+0-9.eE]+")) {
                throw new NumberFormatException(t);
            }
            return Double.parseDouble(t);
        } catch (NumberFormatException e) {
            throw expected(what, text);
        }
    }

    private static Object parseBoolean(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        if (t.equals("true") || t.equals("false")) {
            return Boolean.parseBoolean(t);
        }
        throw expected("true or false", text);
    }

    private static String parseDuration(String text) {
        String[] parts = text.trim().split(":");
        if (parts.length == 4 && Arrays.stream(parts).allMatch(p -> p.matches("\\d+"))) {
            return text.trim();
        }
        throw expected("\"DD:HH:MM:SS\" (e.g. \"00:12:00:00\")", text);
    }

    /** A YAML parser that builds only plain values (maps, lists, strings, numbers, booleans). */
    static Yaml yaml() {
        return new Yaml(new SafeConstructor(new LoaderOptions()));
    }

    @Override
    public String toString() {
        return Objects.toString(describe);
    }
}
