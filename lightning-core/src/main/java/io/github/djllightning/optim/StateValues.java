package io.github.djllightning.optim;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Typed reads from the plain-value part of a state dict. The values may have come back from JSON, where every
 * number is a double and every list a {@code List<Object>}, so reads accept any {@link Number} and check the rest.
 */
final class StateValues {

    private StateValues() {}

    static Object require(Map<?, ?> values, String key, String owner) {
        Object value = values.get(key);
        if (value == null) {
            throw new IllegalArgumentException(
                    owner + " state dict has no '" + key + "' entry; it has " + values.keySet());
        }
        return value;
    }

    static double toDouble(Object value, String key, String owner) {
        if (!(value instanceof Number)) {
            throw new IllegalArgumentException(
                    owner + " state dict entry '" + key + "' must be a number, but was " + describe(value));
        }
        return ((Number) value).doubleValue();
    }

    static long toLong(Object value, String key, String owner) {
        double number = toDouble(value, key, owner);
        if (number != Math.rint(number) || Double.isInfinite(number)) {
            throw new IllegalArgumentException(
                    owner + " state dict entry '" + key + "' must be a whole number, but was " + value);
        }
        return (long) number;
    }

    static int toInt(Object value, String key, String owner) {
        long number = toLong(value, key, owner);
        if (number != (int) number) {
            throw new IllegalArgumentException(
                    owner + " state dict entry '" + key + "' is out of the int range: " + number);
        }
        return (int) number;
    }

    static List<?> toList(Object value, String key, String owner) {
        if (!(value instanceof List)) {
            throw new IllegalArgumentException(
                    owner + " state dict entry '" + key + "' must be a list, but was " + describe(value));
        }
        return (List<?>) value;
    }

    static Map<?, ?> toMap(Object value, String key, String owner) {
        if (!(value instanceof Map)) {
            throw new IllegalArgumentException(
                    owner + " state dict entry '" + key + "' must be a map, but was " + describe(value));
        }
        return (Map<?, ?>) value;
    }

    static double[] toDoubles(Object value, String key, String owner) {
        List<?> list = toList(value, key, owner);
        double[] result = new double[list.size()];
        for (int i = 0; i < result.length; i++) {
            result[i] = toDouble(list.get(i), key + "[" + i + "]", owner);
        }
        return result;
    }

    static List<Double> toList(double[] values) {
        List<Double> list = new ArrayList<>(values.length);
        for (double value : values) {
            list.add(value);
        }
        return list;
    }

    private static String describe(Object value) {
        return value == null ? "null" : value + " (" + value.getClass().getSimpleName() + ")";
    }
}
