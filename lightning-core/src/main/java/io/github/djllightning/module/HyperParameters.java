package io.github.djllightning.module;

import ai.djl.nn.Block;
import java.lang.reflect.Array;
import java.lang.reflect.Constructor;
import java.lang.reflect.GenericArrayType;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.lang.reflect.TypeVariable;
import java.lang.reflect.WildcardType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hyperparameters in both directions: what a user passes to {@code saveHyperparameters} as an ordered name-to-value
 * map (leaving out ignored names and layers), and values read back from a checkpoint's JSON converted to the types of
 * a record's components.
 */
final class HyperParameters {

    private static final Logger LOG = LoggerFactory.getLogger(LightningModule.class);

    private HyperParameters() {}

    /**
     * A record's components or a map's entries, in order.
     *
     * @param recordOrMap a record or a {@code Map<String, ?>}
     * @return name to value
     * @throws IllegalArgumentException for anything else, or a key that is not a string
     */
    static Map<String, Object> toMap(Object recordOrMap) {
        Map<String, Object> out = new LinkedHashMap<>();
        if (recordOrMap instanceof Map) {
            for (Map.Entry<?, ?> entry : ((Map<?, ?>) recordOrMap).entrySet()) {
                if (!(entry.getKey() instanceof String)) {
                    throw new IllegalArgumentException(
                            "saveHyperparameters: keys must be strings, got " + entry.getKey());
                }
                out.put((String) entry.getKey(), entry.getValue());
            }
            return out;
        }
        if (recordOrMap != null && recordOrMap.getClass().isRecord()) {
            for (RecordComponent component : recordOrMap.getClass().getRecordComponents()) {
                try {
                    component.getAccessor().setAccessible(true);
                    out.put(component.getName(), component.getAccessor().invoke(recordOrMap));
                } catch (ReflectiveOperationException e) {
                    throw new IllegalArgumentException(
                            "saveHyperparameters: cannot read " + component.getName() + " of " + recordOrMap, e);
                }
            }
            return out;
        }
        throw new IllegalArgumentException(
                "saveHyperparameters takes a record or a Map<String, ?>, got "
                        + (recordOrMap == null ? "null" : recordOrMap.getClass().getName()));
    }

    /**
     * The entries to record: those of the record or map, less the ignored names and less the values that are layers
     * (a {@link Block}, which includes a {@link LightningModule}, or a collection, map or array holding one), with a
     * warning naming the layers left out and an unknown ignored name.
     *
     * @param recordOrMap a record or a {@code Map<String, ?>}
     * @param ignore names to leave out
     * @param owner the module's class, for the warnings
     * @return the entries to record, in order
     */
    static Map<String, Object> select(Object recordOrMap, String[] ignore, Class<?> owner) {
        Map<String, Object> all = toMap(recordOrMap);
        Set<String> ignored = new LinkedHashSet<>(Arrays.asList(ignore == null ? new String[0] : ignore));
        List<String> unknown = new ArrayList<>();
        for (String name : ignored) {
            if (!all.containsKey(name)) {
                unknown.add(name);
            }
        }
        if (!unknown.isEmpty()) {
            LOG.warn("{}.saveHyperparameters: ignore names {} that are not among the hyperparameters {}.",
                    owner.getSimpleName(), unknown, all.keySet());
        }
        Map<String, Object> out = new LinkedHashMap<>();
        List<String> layers = new ArrayList<>();
        for (Map.Entry<String, Object> entry : all.entrySet()) {
            if (ignored.contains(entry.getKey())) {
                continue;
            }
            if (holdsLayer(entry.getValue())) {
                layers.add(entry.getKey());
                continue;
            }
            out.put(entry.getKey(), entry.getValue());
        }
        if (!layers.isEmpty()) {
            boolean one = layers.size() == 1;
            LOG.warn("{}.saveHyperparameters: {} {}, not {}, and {} left out: {} saved in the checkpoint's"
                            + " state_dict. Pass ignore {} to leave {} out without this warning, and pass {} again to"
                            + " loadFromCheckpoint as extra arguments.",
                    owner.getSimpleName(), quoted(layers),
                    one ? "is a layer (DJL Block)" : "are layers (DJL Blocks)",
                    one ? "a hyperparameter" : "hyperparameters", one ? "is" : "are",
                    one ? "its weights are" : "their weights are", quoted(layers), one ? "it" : "them",
                    one ? "it" : "them");
        }
        return out;
    }

    private static String quoted(List<String> names) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < names.size(); i++) {
            out.append(i == 0 ? "" : i == names.size() - 1 ? " and " : ", ").append('"').append(names.get(i))
                    .append('"');
        }
        return out.toString();
    }

    private static boolean holdsLayer(Object value) {
        if (value instanceof Block) {
            return true;
        }
        if (value instanceof Collection) {
            for (Object item : (Collection<?>) value) {
                if (item instanceof Block) {
                    return true;
                }
            }
        } else if (value instanceof Map) {
            for (Object item : ((Map<?, ?>) value).values()) {
                if (item instanceof Block) {
                    return true;
                }
            }
        } else if (value instanceof Block[]) {
            return true;
        }
        return false;
    }

    // ------------------------------------------------------------------ from a checkpoint

    /**
     * Rebuilds a record through its canonical constructor from stored values, converting each to its component's
     * type (see {@link #convert}). A component with no value gets null, which fails for a primitive component.
     *
     * @param type the record class
     * @param values component name to stored value; names that are not components are not used
     * @param where where the values come from, for messages (e.g. the checkpoint file)
     * @return the record
     * @throws IllegalArgumentException naming the component whose value cannot be converted or is missing
     */
    static Record toRecord(Class<?> type, Map<String, ?> values, String where) {
        RecordComponent[] components = type.getRecordComponents();
        Class<?>[] types = new Class<?>[components.length];
        Object[] args = new Object[components.length];
        for (int i = 0; i < components.length; i++) {
            RecordComponent component = components[i];
            types[i] = component.getType();
            String name = component.getName();
            if (!values.containsKey(name) && component.getType().isPrimitive()) {
                throw new IllegalArgumentException(where + ": the hyperparameter '" + name + "' of "
                        + type.getSimpleName() + " (" + component.getType().getName() + ") is not stored; pass it"
                        + " as an override. Stored: " + values.keySet());
            }
            args[i] = convert(values.get(name), component.getGenericType(), name, where);
        }
        try {
            Constructor<?> canonical = type.getDeclaredConstructor(types);
            canonical.setAccessible(true);
            return (Record) canonical.newInstance(args);
        } catch (InvocationTargetException e) {
            Throwable cause = e.getCause();
            throw new IllegalArgumentException(where + ": the constructor of " + type.getName() + " rejected the"
                    + " stored hyperparameters " + values + ": " + cause, cause);
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new IllegalArgumentException(where + ": cannot create " + type.getName() + " through its"
                    + " canonical constructor: " + e, e);
        }
    }

    /**
     * Converts a value read from a checkpoint's JSON (Long, Double, Boolean, String, List, Map, null) or given as an
     * override to a Java type: integers to {@code int}, {@code long}, {@code short} or {@code byte} (checking the
     * range), numbers to {@code float} or {@code double}, strings to enum constants or a {@code char}, lists to
     * lists, sets or arrays (elements converted by the declared element type), maps to maps or to nested records.
     * A value that already is of the type is returned as it is.
     *
     * @param value the value
     * @param target the declared type, possibly generic
     * @param name the hyperparameter's name, for messages
     * @param where where the value comes from, for messages
     * @return the converted value
     * @throws IllegalArgumentException naming the value and the type when it cannot be converted
     */
    static Object convert(Object value, Type target, String name, String where) {
        Class<?> raw = rawType(target);
        if (value == null) {
            if (raw.isPrimitive()) {
                throw new IllegalArgumentException(where + ": the hyperparameter '" + name + "' is null, but its type"
                        + " is " + raw.getName() + "; pass a value as an override");
            }
            return null;
        }
        if (raw == Object.class) {
            return value;
        }
        Class<?> boxed = box(raw);
        if (boxed.isInstance(value) && !(value instanceof Collection) && !(value instanceof Map)) {
            return value;
        }
        if (Number.class.isAssignableFrom(boxed) && value instanceof Number) {
            return number((Number) value, boxed, name, where);
        }
        if (boxed == Character.class && value instanceof String && ((String) value).length() == 1) {
            return ((String) value).charAt(0);
        }
        if (raw.isEnum() && value instanceof String) {
            for (Object constant : raw.getEnumConstants()) {
                if (((Enum<?>) constant).name().equals(value)) {
                    return constant;
                }
            }
            throw new IllegalArgumentException(where + ": the hyperparameter '" + name + "' is \"" + value + "\","
                    + " not a constant of " + raw.getSimpleName() + " " + Arrays.toString(raw.getEnumConstants()));
        }
        if (raw.isArray() && (value instanceof Collection || value.getClass().isArray())) {
            List<?> items = items(value);
            Type element = target instanceof GenericArrayType
                    ? ((GenericArrayType) target).getGenericComponentType()
                    : raw.getComponentType();
            Object array = Array.newInstance(raw.getComponentType(), items.size());
            for (int i = 0; i < items.size(); i++) {
                Array.set(array, i, convert(items.get(i), element, name + "[" + i + "]", where));
            }
            return array;
        }
        if (Collection.class.isAssignableFrom(raw) && (value instanceof Collection || value.getClass().isArray())) {
            Collection<Object> out = newCollection(raw, name, where);
            Type element = typeArgument(target, 0);
            int i = 0;
            for (Object item : items(value)) {
                out.add(convert(item, element, name + "[" + i++ + "]", where));
            }
            return out;
        }
        if (Map.class.isAssignableFrom(raw) && value instanceof Map) {
            if (!raw.isAssignableFrom(LinkedHashMap.class)) {
                throw cannot(value, target, name, where);
            }
            Type valueType = typeArgument(target, 1);
            Map<Object, Object> out = new LinkedHashMap<>();
            for (Map.Entry<?, ?> entry : ((Map<?, ?>) value).entrySet()) {
                out.put(entry.getKey(), convert(entry.getValue(), valueType, name + "." + entry.getKey(), where));
            }
            return out;
        }
        if (raw.isRecord() && value instanceof Map) {
            Map<String, Object> fields = new LinkedHashMap<>();
            for (Map.Entry<?, ?> entry : ((Map<?, ?>) value).entrySet()) {
                fields.put(String.valueOf(entry.getKey()), entry.getValue());
            }
            return toRecord(raw, fields, where + " [" + name + "]");
        }
        throw cannot(value, target, name, where);
    }

    private static IllegalArgumentException cannot(Object value, Type target, String name, String where) {
        return new IllegalArgumentException(where + ": the hyperparameter '" + name + "' is " + value + " ("
                + value.getClass().getSimpleName() + "), which cannot be converted to " + target.getTypeName());
    }

    private static Object number(Number value, Class<?> boxed, String name, String where) {
        if (boxed == Double.class) {
            return value.doubleValue();
        }
        if (boxed == Float.class) {
            return value.floatValue();
        }
        long whole;
        if (value instanceof Double || value instanceof Float) {
            double d = value.doubleValue();
            if (d != Math.rint(d) || Double.isInfinite(d) || Math.abs(d) > 0x1p63) {
                throw new IllegalArgumentException(where + ": the hyperparameter '" + name + "' is " + value
                        + ", not a whole number, but its type is " + unbox(boxed));
            }
            whole = (long) d;
        } else {
            whole = value.longValue();
        }
        long min;
        long max;
        if (boxed == Integer.class) {
            min = Integer.MIN_VALUE;
            max = Integer.MAX_VALUE;
        } else if (boxed == Short.class) {
            min = Short.MIN_VALUE;
            max = Short.MAX_VALUE;
        } else if (boxed == Byte.class) {
            min = Byte.MIN_VALUE;
            max = Byte.MAX_VALUE;
        } else if (boxed == Long.class) {
            return whole;
        } else {
            throw new IllegalArgumentException(where + ": the hyperparameter '" + name + "' is " + value
                    + ", which cannot be converted to " + boxed.getName());
        }
        if (whole < min || whole > max) {
            throw new IllegalArgumentException(where + ": the hyperparameter '" + name + "' is " + value
                    + ", out of the range of " + unbox(boxed));
        }
        if (boxed == Integer.class) {
            return (int) whole;
        }
        return boxed == Short.class ? (Object) (short) whole : (Object) (byte) whole;
    }

    private static List<?> items(Object value) {
        if (value instanceof Collection) {
            return new ArrayList<>((Collection<?>) value);
        }
        List<Object> out = new ArrayList<>();
        for (int i = 0; i < Array.getLength(value); i++) {
            out.add(Array.get(value, i));
        }
        return out;
    }

    private static Collection<Object> newCollection(Class<?> raw, String name, String where) {
        if (raw.isAssignableFrom(ArrayList.class)) {
            return new ArrayList<>();
        }
        if (raw.isAssignableFrom(LinkedHashSet.class)) {
            return new LinkedHashSet<>();
        }
        if (raw.isAssignableFrom(TreeSet.class) && SortedSet.class.isAssignableFrom(raw)) {
            return new TreeSet<>();
        }
        throw new IllegalArgumentException(where + ": the hyperparameter '" + name + "' has the collection type "
                + raw.getName() + "; declare it as a List, Set or array");
    }

    private static Type typeArgument(Type type, int index) {
        if (type instanceof ParameterizedType) {
            Type[] arguments = ((ParameterizedType) type).getActualTypeArguments();
            if (index < arguments.length) {
                return arguments[index];
            }
        }
        return Object.class;
    }

    private static Class<?> rawType(Type type) {
        if (type instanceof Class) {
            return (Class<?>) type;
        }
        if (type instanceof ParameterizedType) {
            return rawType(((ParameterizedType) type).getRawType());
        }
        if (type instanceof GenericArrayType) {
            return Array.newInstance(rawType(((GenericArrayType) type).getGenericComponentType()), 0).getClass();
        }
        if (type instanceof WildcardType) {
            return rawType(((WildcardType) type).getUpperBounds()[0]);
        }
        if (type instanceof TypeVariable) {
            Type[] bounds = ((TypeVariable<?>) type).getBounds();
            return bounds.length == 0 ? Object.class : rawType(bounds[0]);
        }
        return Object.class;
    }

    private static Class<?> box(Class<?> type) {
        if (!type.isPrimitive()) {
            return type;
        }
        if (type == int.class) {
            return Integer.class;
        }
        if (type == long.class) {
            return Long.class;
        }
        if (type == double.class) {
            return Double.class;
        }
        if (type == float.class) {
            return Float.class;
        }
        if (type == boolean.class) {
            return Boolean.class;
        }
        if (type == short.class) {
            return Short.class;
        }
        if (type == byte.class) {
            return Byte.class;
        }
        if (type == char.class) {
            return Character.class;
        }
        return Void.class;
    }

    private static String unbox(Class<?> boxed) {
        for (Class<?> primitive : new Class<?>[] {int.class, long.class, short.class, byte.class}) {
            if (box(primitive) == boxed) {
                return primitive.getName();
            }
        }
        return boxed.getName();
    }

    /**
     * The primitive-aware version of {@link Class#isAssignableFrom}: whether a value can be passed to a parameter of
     * the type (null to any reference type, a boxed number to its primitive).
     *
     * @param type the parameter's type
     * @param value the value
     * @return whether it can be passed
     */
    static boolean accepts(Class<?> type, Object value) {
        if (value == null) {
            return !type.isPrimitive();
        }
        return box(type).isInstance(value);
    }
}
