package io.github.djllightning.cli;

import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The {@code --model.*} or {@code --data.*} options of a class whose constructor takes a hyperparameters record:
 * one option per record component, under its snake_case name ({@code batchSize} is {@code batch_size}).
 *
 * <p>Component types: {@code int}, {@code long}, {@code float}, {@code double}, {@code boolean}, their boxed forms
 * (which also take null), {@code String}, {@code Path}, enums, and {@code List} or {@code Set} of those.
 */
final class RecordOptions {

    private final String section;
    private final Class<?> owner;
    private final Constructor<?> constructor;
    private final Class<?> recordType;
    private final List<Option> options = new ArrayList<>();
    private final List<RecordComponent> components = new ArrayList<>();

    private RecordOptions(String section, Class<?> owner, Constructor<?> constructor, Class<?> recordType) {
        this.section = section;
        this.owner = owner;
        this.constructor = constructor;
        this.recordType = recordType;
    }

    /**
     * Reads the options of a class.
     *
     * @param section {@code model} or {@code data}
     * @param owner the module or data module class
     * @param defaults the default hyperparameters, or null to look for the record's {@code static defaults()} or
     *     no-argument constructor (without either, every component must be given)
     * @return the options
     * @throws IllegalArgumentException when the class has no usable constructor or a component has a type that
     *     cannot be written on a command line
     */
    static RecordOptions of(String section, Class<?> owner, Record defaults) {
        Constructor<?> withRecord = null;
        Constructor<?> noArgs = null;
        for (Constructor<?> c : owner.getConstructors()) {
            if (c.getParameterCount() == 1 && c.getParameterTypes()[0].isRecord()) {
                withRecord = c;
            } else if (c.getParameterCount() == 0) {
                noArgs = c;
            }
        }
        if (Modifier.isAbstract(owner.getModifiers()) || withRecord == null && noArgs == null) {
            throw new IllegalArgumentException(owner.getName() + " cannot be built from the command line: it needs"
                    + " to be a concrete public class with a public constructor taking one hyperparameters record"
                    + " (e.g. " + owner.getSimpleName() + "(HParams hp)) or no arguments.");
        }
        if (withRecord == null) {
            return new RecordOptions(section, owner, noArgs, null);
        }
        Class<?> type = withRecord.getParameterTypes()[0];
        RecordOptions out = new RecordOptions(section, owner, withRecord, type);
        if (defaults != null && !type.isInstance(defaults)) {
            throw new IllegalArgumentException("The defaults for --" + section + " must be a " + type.getName()
                    + ", got a " + defaults.getClass().getName());
        }
        Object base = defaults != null ? defaults : findDefaults(type);
        for (RecordComponent component : type.getRecordComponents()) {
            ValueType valueType = typeOf(component.getGenericType(), component.getType(), component, type);
            Object value = base == null ? null : canonical(read(component, base));
            out.components.add(component);
            out.options.add(new Option(section + "." + snake(component.getName()), valueType, value, base == null,
                    type.getSimpleName() + "." + component.getName()));
        }
        return out;
    }

    /** The options, in component order. */
    List<Option> options() {
        return options;
    }

    /** The hyperparameters record type, or null when the class is built without arguments. */
    Class<?> recordType() {
        return recordType;
    }

    /**
     * Builds the object from resolved values.
     *
     * @param values the section's values, by option name
     * @return the instance
     * @throws CliException when a required value is missing or a constructor rejects the values
     */
    Object instantiate(Map<String, Object> values) {
        try {
            if (recordType == null) {
                return constructor.newInstance();
            }
            Object[] args = new Object[components.size()];
            Class<?>[] types = new Class<?>[components.size()];
            for (int i = 0; i < args.length; i++) {
                RecordComponent component = components.get(i);
                Option option = options.get(i);
                Object value = values.get(option.name());
                if (value == null && component.getType().isPrimitive()) {
                    throw CliException.usage(option.flag() + " (" + option.type().describe() + ") is required: "
                            + recordType.getSimpleName() + "." + component.getName() + " has no default. Pass "
                            + option.flag() + "=VALUE or set " + section + "." + option.name() + " in a --config"
                            + " file.");
                }
                args[i] = toJava(value, component.getGenericType(), component.getType());
                types[i] = component.getType();
            }
            Constructor<?> canonical = recordType.getDeclaredConstructor(types);
            canonical.setAccessible(true);
            Object record;
            try {
                record = canonical.newInstance(args);
            } catch (InvocationTargetException e) {
                throw CliException.usage("The " + section + " options were rejected by " + recordType.getName()
                        + ": " + e.getCause().getMessage());
            }
            return constructor.newInstance(record);
        } catch (InvocationTargetException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException) {
                throw (RuntimeException) cause;
            }
            throw new CliException("Creating " + owner.getName() + " failed: " + cause, CliException.FAILURE, cause);
        } catch (ReflectiveOperationException e) {
            throw new CliException("Cannot create " + owner.getName() + ": " + e, CliException.FAILURE, e);
        }
    }

    private static Object findDefaults(Class<?> type) {
        try {
            Method method = type.getMethod("defaults");
            if (Modifier.isStatic(method.getModifiers()) && type.isAssignableFrom(method.getReturnType())) {
                return method.invoke(null);
            }
        } catch (NoSuchMethodException e) {
            // no static defaults(); try a no-argument constructor
        } catch (ReflectiveOperationException e) {
            throw new IllegalArgumentException(type.getName() + ".defaults() failed: " + e, e);
        }
        try {
            return type.getConstructor().newInstance();
        } catch (NoSuchMethodException e) {
            return null;
        } catch (ReflectiveOperationException e) {
            throw new IllegalArgumentException("new " + type.getName() + "() failed: " + e, e);
        }
    }

    private static Object read(RecordComponent component, Object record) {
        try {
            Method accessor = component.getAccessor();
            accessor.setAccessible(true);
            return accessor.invoke(record);
        } catch (ReflectiveOperationException e) {
            throw new IllegalArgumentException("Cannot read " + component.getName() + " of " + record, e);
        }
    }

    /** A Java value as a canonical option value (enums by name, paths as strings). */
    static Object canonical(Object value) {
        if (value instanceof Enum) {
            return ((Enum<?>) value).name();
        }
        if (value instanceof Path) {
            return value.toString();
        }
        if (value instanceof Collection) {
            List<Object> out = new ArrayList<>();
            for (Object item : (Collection<?>) value) {
                out.add(canonical(item));
            }
            return out;
        }
        return value;
    }

    private static ValueType typeOf(Type generic, Class<?> raw, RecordComponent component, Class<?> record) {
        ValueType scalar = scalar(raw);
        if (scalar != null) {
            return raw.isPrimitive() ? scalar : scalar.nullable();
        }
        if ((raw == List.class || raw == Set.class || raw == Collection.class) && generic instanceof ParameterizedType) {
            Type element = ((ParameterizedType) generic).getActualTypeArguments()[0];
            if (element instanceof Class && scalar((Class<?>) element) != null) {
                return ValueType.listOf(scalar((Class<?>) element)).nullable();
            }
        }
        throw new IllegalArgumentException(record.getName() + "." + component.getName() + " has the type "
                + generic.getTypeName() + ", which cannot be written on a command line. Use int, long, float,"
                + " double, boolean (or their boxed forms), String, Path, an enum, or a List/Set of those.");
    }

    private static ValueType scalar(Class<?> raw) {
        if (raw == int.class || raw == Integer.class) {
            return ValueType.INT;
        }
        if (raw == long.class || raw == Long.class) {
            return ValueType.LONG;
        }
        if (raw == double.class || raw == Double.class) {
            return ValueType.DOUBLE;
        }
        if (raw == float.class || raw == Float.class) {
            return ValueType.FLOAT;
        }
        if (raw == boolean.class || raw == Boolean.class) {
            return ValueType.BOOLEAN;
        }
        if (raw == String.class || raw == Path.class) {
            return ValueType.STRING;
        }
        if (raw.isEnum()) {
            return ValueType.enumOf(raw);
        }
        return null;
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static Object toJava(Object value, Type generic, Class<?> raw) {
        if (value == null) {
            return null;
        }
        if (raw == Path.class) {
            return Paths.get((String) value);
        }
        if (raw.isEnum()) {
            return Enum.valueOf((Class<? extends Enum>) raw, (String) value);
        }
        if (Collection.class.isAssignableFrom(raw)) {
            Class<?> element = (Class<?>) ((ParameterizedType) generic).getActualTypeArguments()[0];
            Collection<Object> out = raw == Set.class ? new LinkedHashSet<>() : new ArrayList<>();
            for (Object item : (Collection<?>) value) {
                out.add(toJava(item, element, element));
            }
            return raw == Set.class ? Collections.unmodifiableSet((Set<Object>) out) : List.copyOf(out);
        }
        return value;
    }

    /**
     * A camelCase name in snake_case: {@code batchSize} is {@code batch_size}.
     *
     * @param name the name
     * @return the snake_case name
     */
    static String snake(String name) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (Character.isUpperCase(c)) {
                if (i > 0) {
                    out.append('_');
                }
                out.append(Character.toLowerCase(c));
            } else {
                out.append(c);
            }
        }
        return out.toString().toLowerCase(Locale.ROOT);
    }
}
