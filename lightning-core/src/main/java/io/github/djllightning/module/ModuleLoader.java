package io.github.djllightning.module;

import ai.djl.ndarray.NDManager;
import io.github.djllightning.checkpoint.Checkpoint;
import io.github.djllightning.checkpoint.CheckpointException;
import io.github.djllightning.checkpoint.CheckpointReader;
import io.github.djllightning.checkpoint.CheckpointWriter;
import io.github.djllightning.checkpoint.Checkpoints;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Modifier;
import java.lang.reflect.RecordComponent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.StringJoiner;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds a module from a checkpoint: the implementation of {@link LightningModule#loadFromCheckpoint(Class, Path,
 * Map, Object...)}, Lightning's {@code load_from_checkpoint}.
 *
 * <p>Which class is built: the checkpoint's {@code module_class} must be the requested class, a subclass of it (the
 * stored subclass is then built, so {@code loadFromCheckpoint(LightningModule.class, path)} builds whatever module
 * saved the file), or a superclass of it (the requested subclass is built, with a warning: its layers must be those
 * of the class that saved the weights). Any other class, or a stored class that cannot be found when it is not the
 * requested one, is an error. A checkpoint without {@code module_class} is loaded into the requested class.
 *
 * <p>Which constructor is used, tried in this order, each shape at most one constructor (two that fit are an error):
 *
 * <ol>
 *   <li>the hyperparameters' record first: when the checkpoint names a record class ({@code hparams_type}, written
 *       for a module that gave a record to {@code saveHyperparameters}), a constructor whose first parameter accepts
 *       that record, followed by one parameter per extra argument, each accepting it. The record is rebuilt through
 *       its canonical constructor from the stored values with the overrides applied, converted to the components'
 *       types.
 *   <li>a map first: a constructor whose first parameter is a {@code Map} (receiving a new {@code LinkedHashMap}
 *       of the stored values with the overrides applied, as JSON read them: whole numbers as {@code Long}, other
 *       numbers as {@code Double}, lists as {@code List}, objects as {@code Map}), followed by the extra arguments.
 *   <li>the extra arguments alone (the no-argument constructor when there are none); the hyperparameters are then
 *       only recorded in {@link LightningModule#hparams()}.
 * </ol>
 *
 * <p>Constructors of any visibility are used. An extra argument fits a parameter when it is an instance of the
 * parameter's type (boxed for a primitive); a null fits any reference type.
 */
final class ModuleLoader {

    private static final Logger LOG = LoggerFactory.getLogger(LightningModule.class);

    private ModuleLoader() {}

    /** The record class a checkpoint names, or why it cannot be used. */
    private static final class RecordType {
        final Class<?> type;
        final String problem;

        RecordType(Class<?> type, String problem) {
            this.type = type;
            this.problem = problem;
        }
    }

    /** A constructor and the arguments it is called with. */
    private static final class Choice {
        final Constructor<?> constructor;
        final Object[] args;
        final boolean receivesHyperparameters;

        Choice(Constructor<?> constructor, Object[] args, boolean receivesHyperparameters) {
            this.constructor = constructor;
            this.args = args;
            this.receivesHyperparameters = receivesHyperparameters;
        }
    }

    static <M extends LightningModule> M load(
            Class<M> type, Path file, Map<String, ?> overrides, Object[] extraArgs) {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(file, "checkpoint");
        Object[] extras = extraArgs == null ? new Object[0] : extraArgs.clone();
        Map<String, ?> given = overrides == null ? Map.of() : overrides;

        if (!Files.exists(file)) {
            throw new CheckpointException(file, null, "no such file; loadFromCheckpoint takes the path of a .ckpt"
                    + " file, such as trainer.checkpointCallback().bestModelPath()");
        }
        Map<String, Object> entries = CheckpointReader.readEntries(file);
        Class<? extends M> moduleClass = moduleClass(type, entries, file);
        Map<String, Object> stored = storedHyperparameters(entries);
        RecordType record = recordType(entries, moduleClass, file);
        Map<String, Object> hparams = applyOverrides(stored, given, record, moduleClass, file);

        Choice choice = choose(moduleClass, hparams, record, extras, file);
        if (!choice.receivesHyperparameters && !given.isEmpty()) {
            LOG.warn("{} has no constructor taking its hyperparameters; the overrides {} are only recorded in"
                    + " hparams() and do not change how the module is built.", moduleClass.getSimpleName(),
                    given.keySet());
        }
        M module = construct(moduleClass, choice, hparams, file);
        try {
            module.restoreHyperparameters(hparams, record.type, choice.receivesHyperparameters);
            try (NDManager scratch = module.parameterManager().newSubManager()) {
                scratch.setName(moduleClass.getSimpleName() + "-checkpoint");
                Checkpoint checkpoint = CheckpointReader.read(file, scratch);
                checkpoint.entries().put("hyper_parameters", new LinkedHashMap<>(hparams));
                module.onLoadCheckpoint(checkpoint);
                Checkpoints.loadWeights(module, checkpoint);
            }
            module.eval();
            return module;
        } catch (RuntimeException | Error e) {
            module.close();
            throw e;
        }
    }

    // ------------------------------------------------------------------ the class

    private static <M extends LightningModule> Class<? extends M> moduleClass(
            Class<M> type, Map<String, Object> entries, Path file) {
        Object storedName = entries.get("module_class");
        Class<? extends M> chosen = type;
        if (storedName != null && !storedName.equals(type.getName())) {
            Class<?> stored = find((String) storedName, type);
            if (stored != null && type.isAssignableFrom(stored)) {
                chosen = stored.asSubclass(type);
            } else if (stored != null && stored.isAssignableFrom(type)) {
                LOG.warn("{} was saved by a {}; loading it into its subclass {}.", file.getFileName(),
                        stored.getName(), type.getName());
            } else {
                throw new IllegalArgumentException(file.toAbsolutePath() + ": the checkpoint was saved by a "
                        + storedName + (stored == null ? " (a class that is not on the class path)" : "")
                        + ", which is neither " + type.getName() + " nor one of its subclasses or superclasses;"
                        + " load it with the class that saved it"
                        + (stored == null ? "" : ": loadFromCheckpoint(" + stored.getSimpleName() + ".class, ...)"));
            }
        }
        if (Modifier.isAbstract(chosen.getModifiers())) {
            throw new IllegalArgumentException(file.toAbsolutePath() + ": " + chosen.getName() + " is abstract"
                    + (storedName == null ? " and the checkpoint does not name its module class" : "")
                    + "; load the checkpoint with a concrete module class");
        }
        return chosen;
    }

    private static Class<?> find(String name, Class<?> near) {
        try {
            return Class.forName(name, false, near.getClassLoader());
        } catch (ClassNotFoundException | LinkageError e) {
            ClassLoader context = Thread.currentThread().getContextClassLoader();
            if (context == null || context == near.getClassLoader()) {
                return null;
            }
            try {
                return Class.forName(name, false, context);
            } catch (ClassNotFoundException | LinkageError again) {
                return null;
            }
        }
    }

    // ------------------------------------------------------------------ the hyperparameters

    @SuppressWarnings("unchecked")
    private static Map<String, Object> storedHyperparameters(Map<String, Object> entries) {
        Object stored = entries.get("hyper_parameters");
        return stored == null ? new LinkedHashMap<>() : new LinkedHashMap<>((Map<String, Object>) stored);
    }

    private static RecordType recordType(Map<String, Object> entries, Class<?> moduleClass, Path file) {
        Object name = entries.get("hparams_type");
        if (name == null) {
            return new RecordType(null, null);
        }
        if (!(name instanceof String)) {
            throw new CheckpointException(file, CheckpointWriter.JSON_ENTRY + ": hparams_type", "must be a string,"
                    + " found " + name);
        }
        Class<?> type = find((String) name, moduleClass);
        if (type == null) {
            return new RecordType(null, "the checkpoint's hyperparameters record " + name + " is not on the class"
                    + " path");
        }
        if (!type.isRecord()) {
            return new RecordType(null, "the checkpoint's hyperparameters type " + name + " is not a record");
        }
        return new RecordType(type, null);
    }

    private static Map<String, Object> applyOverrides(
            Map<String, Object> stored, Map<String, ?> overrides, RecordType record, Class<?> moduleClass, Path file) {
        Set<String> known = new LinkedHashSet<>(stored.keySet());
        if (record.type != null) {
            for (RecordComponent component : record.type.getRecordComponents()) {
                known.add(component.getName());
            }
        }
        List<String> unknown = new ArrayList<>();
        for (String name : overrides.keySet()) {
            if (!known.contains(name)) {
                unknown.add(name);
            }
        }
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException(file.toAbsolutePath() + ": cannot override " + unknown + " when loading "
                    + moduleClass.getSimpleName() + ": " + (known.isEmpty()
                            ? "the checkpoint stores no hyperparameters (the module did not call saveHyperparameters)"
                            : "the known hyperparameters are " + known));
        }
        Map<String, Object> out = new LinkedHashMap<>(stored);
        out.putAll(overrides);
        return out;
    }

    // ------------------------------------------------------------------ the constructor

    private static Choice choose(
            Class<?> moduleClass, Map<String, Object> hparams, RecordType record, Object[] extras, Path file) {
        Constructor<?>[] constructors = moduleClass.getDeclaredConstructors();
        List<String> tried = new ArrayList<>();
        String where = file.toAbsolutePath().toString();

        if (record.type != null) {
            tried.add(shape(record.type.getSimpleName() + " (the hyperparameters record)", extras));
            Constructor<?> fit = single(constructors, extras, 1,
                    first -> first != Object.class && first.isAssignableFrom(record.type), moduleClass, file);
            if (fit != null) {
                Object[] args = prepend(HyperParameters.toRecord(record.type, hparams, where), extras);
                return new Choice(fit, args, true);
            }
        } else if (record.problem != null) {
            tried.add("(the hyperparameters record, not tried: " + record.problem + ")");
        }

        tried.add(shape("Map<String, Object> (the hyperparameters)", extras));
        Constructor<?> fit = single(constructors, extras, 1,
                first -> Map.class.isAssignableFrom(first) && first.isAssignableFrom(LinkedHashMap.class),
                moduleClass, file);
        if (fit != null) {
            return new Choice(fit, prepend(new LinkedHashMap<>(hparams), extras), true);
        }

        tried.add(shape(null, extras));
        fit = single(constructors, extras, 0, null, moduleClass, file);
        if (fit != null) {
            return new Choice(fit, extras, false);
        }

        StringJoiner declared = new StringJoiner(", ");
        for (Constructor<?> constructor : constructors) {
            declared.add(signature(constructor));
        }
        boolean inner = moduleClass.getEnclosingClass() != null && !Modifier.isStatic(moduleClass.getModifiers());
        throw new IllegalArgumentException(where + ": no constructor of " + moduleClass.getName() + " fits the"
                + " checkpoint's hyperparameters " + hparams.keySet() + " and the " + extras.length + " extra"
                + " argument(s) " + describe(extras) + ". Tried, in order: " + String.join(", ", tried)
                + ". It declares: " + declared + "."
                + (inner ? " It is an inner class, whose constructors take the enclosing instance: make it static."
                        : " Add a constructor of one of these shapes, or pass the objects the constructor needs"
                                + " (layers, data) as extra arguments, in its parameters' order."));
    }

    /** The one constructor with {@code leading} hyperparameter parameters, then the extras; null when none. */
    private static Constructor<?> single(Constructor<?>[] constructors, Object[] extras, int leading,
            java.util.function.Predicate<Class<?>> firstFits, Class<?> moduleClass, Path file) {
        List<Constructor<?>> fits = new ArrayList<>();
        for (Constructor<?> constructor : constructors) {
            Class<?>[] params = constructor.getParameterTypes();
            if (params.length != leading + extras.length || constructor.isSynthetic()) {
                continue;
            }
            if (leading == 1 && !firstFits.test(params[0])) {
                continue;
            }
            boolean ok = true;
            for (int i = 0; i < extras.length && ok; i++) {
                ok = HyperParameters.accepts(params[leading + i], extras[i]);
            }
            if (ok) {
                fits.add(constructor);
            }
        }
        if (fits.size() > 1) {
            StringJoiner names = new StringJoiner(", ");
            fits.forEach(c -> names.add(signature(c)));
            throw new IllegalArgumentException(file.toAbsolutePath() + ": several constructors of "
                    + moduleClass.getName() + " fit the same arguments (" + names + "); pass extra arguments that"
                    + " tell them apart or keep one of them");
        }
        return fits.isEmpty() ? null : fits.get(0);
    }

    private static <M extends LightningModule> M construct(
            Class<? extends M> moduleClass, Choice choice, Map<String, Object> hparams, Path file) {
        try {
            choice.constructor.setAccessible(true);
            return moduleClass.cast(choice.constructor.newInstance(choice.args));
        } catch (InvocationTargetException e) {
            Throwable cause = e.getCause();
            throw new IllegalArgumentException(file.toAbsolutePath() + ": the constructor "
                    + signature(choice.constructor) + " failed with the checkpoint's hyperparameters " + hparams
                    + ": " + cause, cause);
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new IllegalArgumentException(file.toAbsolutePath() + ": cannot call the constructor "
                    + signature(choice.constructor) + ": " + e, e);
        }
    }

    private static Object[] prepend(Object first, Object[] rest) {
        Object[] out = new Object[rest.length + 1];
        out[0] = first;
        System.arraycopy(rest, 0, out, 1, rest.length);
        return out;
    }

    private static String shape(String first, Object[] extras) {
        StringJoiner out = new StringJoiner(", ", "(", ")");
        if (first != null) {
            out.add(first);
        }
        for (Object extra : extras) {
            out.add(extra == null ? "null" : extra.getClass().getSimpleName());
        }
        return out.toString();
    }

    private static String describe(Object[] extras) {
        List<String> types = new ArrayList<>();
        for (Object extra : extras) {
            types.add(extra == null ? "null" : extra.getClass().getName());
        }
        return types.toString();
    }

    private static String signature(Constructor<?> constructor) {
        StringJoiner params = new StringJoiner(", ", constructor.getDeclaringClass().getSimpleName() + "(", ")");
        for (java.lang.reflect.Type type : constructor.getGenericParameterTypes()) {
            params.add(simple(type));
        }
        return params.toString();
    }

    private static String simple(java.lang.reflect.Type type) {
        if (type instanceof Class) {
            return ((Class<?>) type).getSimpleName();
        }
        if (type instanceof java.lang.reflect.ParameterizedType) {
            java.lang.reflect.ParameterizedType generic = (java.lang.reflect.ParameterizedType) type;
            StringJoiner arguments = new StringJoiner(", ", simple(generic.getRawType()) + "<", ">");
            for (java.lang.reflect.Type argument : generic.getActualTypeArguments()) {
                arguments.add(simple(argument));
            }
            return arguments.toString();
        }
        return type.getTypeName().replaceAll("(?:[a-z_][a-z0-9_]*\\.)+", "");
    }
}
