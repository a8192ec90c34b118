package io.github.djllightning.optim;

import ai.djl.nn.Parameter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * A set of parameters that share optimizer options, like one entry of torch's {@code optimizer.param_groups}: use
 * several groups to give parts of a model different learning rates or weight decay.
 *
 * <p>Options use torch's names ({@code lr}, {@code betas}, {@code eps}, {@code weight_decay}, {@code momentum},
 * {@code dampening}, {@code nesterov}, {@code amsgrad}, {@code maximize}, and the schedulers' {@code initial_lr},
 * {@code max_lr}, ...). Options a group leaves out are filled from the optimizer's defaults when the group is added to
 * an {@link Optimizer}. Known numeric options are stored as {@link Double}, flags as {@link Boolean} and
 * {@code betas} as an immutable two-element {@code List<Double>}; other options are stored as given, so a group may
 * carry a {@code name} or any value a callback wants to read back.
 */
public final class ParamGroup {

    /** The learning rate option. */
    public static final String LR = "lr";
    /** Adam's {@code (beta1, beta2)} option, a two-element list. */
    public static final String BETAS = "betas";
    /** The denominator term of Adam. */
    public static final String EPS = "eps";
    /** The L2 penalty (Adam, SGD) or decoupled decay (AdamW). */
    public static final String WEIGHT_DECAY = "weight_decay";
    /** SGD's momentum factor. */
    public static final String MOMENTUM = "momentum";
    /** SGD's dampening for momentum. */
    public static final String DAMPENING = "dampening";
    /** SGD's Nesterov flag. */
    public static final String NESTEROV = "nesterov";
    /** Adam's AMSGrad flag. */
    public static final String AMSGRAD = "amsgrad";
    /** Whether to maximize the objective instead of minimizing it. */
    public static final String MAXIMIZE = "maximize";
    /** The learning rate a scheduler started from (torch's {@code initial_lr}). */
    public static final String INITIAL_LR = "initial_lr";

    private static final Set<String> DOUBLE_OPTIONS =
            Set.of(LR, EPS, WEIGHT_DECAY, MOMENTUM, DAMPENING, INITIAL_LR, "max_lr", "min_lr", "max_momentum",
                    "base_momentum");
    private static final Set<String> BOOLEAN_OPTIONS = Set.of(NESTEROV, AMSGRAD, MAXIMIZE);

    private final List<Parameter> params;
    private final LinkedHashMap<String, Object> options = new LinkedHashMap<>();
    private final Map<String, Object> optionsView = Collections.unmodifiableMap(options);

    /**
     * Creates a group whose options all come from the optimizer's defaults.
     *
     * @param params the parameters, in order; each at most once
     */
    public ParamGroup(Collection<Parameter> params) {
        this(params, Map.of());
    }

    /**
     * Creates a group with its own options; the options it leaves out come from the optimizer's defaults.
     *
     * @param params the parameters, in order; each at most once
     * @param options options by torch name, for example {@code Map.of("lr", 1e-4)}
     */
    public ParamGroup(Collection<Parameter> params, Map<String, ?> options) {
        Objects.requireNonNull(params, "params");
        Objects.requireNonNull(options, "options");
        List<Parameter> copy = new ArrayList<>(params.size());
        Set<Parameter> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Parameter param : params) {
            if (param == null) {
                throw new IllegalArgumentException("ParamGroup params must not contain null: " + params);
            }
            if (!seen.add(param)) {
                throw new IllegalArgumentException(
                        "ParamGroup params contain parameter '" + param.getName() + "' twice; list it once");
            }
            copy.add(param);
        }
        this.params = Collections.unmodifiableList(copy);
        options.forEach(this::set);
    }

    /**
     * Returns the parameters of this group.
     *
     * @return the parameters, in order; unmodifiable
     */
    public List<Parameter> params() {
        return params;
    }

    /**
     * Returns the options of this group.
     *
     * @return the options by torch name, in insertion order; unmodifiable (change them with {@link #set})
     */
    public Map<String, Object> options() {
        return optionsView;
    }

    /**
     * Tells whether this group has an option.
     *
     * @param name the option's torch name
     * @return whether the option is set
     */
    public boolean has(String name) {
        return options.containsKey(name);
    }

    /**
     * Returns the learning rate of this group.
     *
     * @return the {@code lr} option
     */
    public double lr() {
        return getDouble(LR);
    }

    /**
     * Sets the learning rate of this group.
     *
     * @param lr the new learning rate, a finite number {@code >= 0}
     * @return this group
     */
    public ParamGroup setLr(double lr) {
        options.put(LR, Checks.nonNegative("ParamGroup", LR, lr));
        return this;
    }

    /**
     * Returns a numeric option.
     *
     * @param name the option's torch name, for example {@code weight_decay}
     * @return its value
     * @throws IllegalArgumentException if the option is missing or not a number
     */
    public double getDouble(String name) {
        Object value = options.get(name);
        if (value instanceof Number) {
            return ((Number) value).doubleValue();
        }
        throw missingOrWrongType(name, value, "a number");
    }

    /**
     * Returns one element of a list option, such as {@code beta2} of {@code betas}.
     *
     * @param name the option's torch name
     * @param index the element's index
     * @return its value
     * @throws IllegalArgumentException if the option is missing, not a list of numbers, or too short
     */
    public double getDouble(String name, int index) {
        Object value = options.get(name);
        if (value instanceof List && index >= 0 && index < ((List<?>) value).size()) {
            Object element = ((List<?>) value).get(index);
            if (element instanceof Number) {
                return ((Number) element).doubleValue();
            }
        }
        throw missingOrWrongType(name, value, "a list of numbers with an element " + index);
    }

    /**
     * Returns a boolean option.
     *
     * @param name the option's torch name, for example {@code nesterov}
     * @return its value
     * @throws IllegalArgumentException if the option is missing or not a boolean
     */
    public boolean getBoolean(String name) {
        Object value = options.get(name);
        if (value instanceof Boolean) {
            return (Boolean) value;
        }
        throw missingOrWrongType(name, value, "a boolean");
    }

    /**
     * Sets an option, checking the type of the options this package knows.
     *
     * @param name the option's torch name
     * @param value a {@link Number} for numeric options, a {@link Boolean} for flags, a two-element list of numbers
     *     or a {@code double[2]} for {@code betas}, anything non-null for other options
     * @return this group
     * @throws IllegalArgumentException if the name is {@code params}, the value has the wrong type, or {@code lr} is
     *     negative
     */
    public ParamGroup set(String name, Object value) {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("ParamGroup option name must not be null or empty, but was " + name);
        }
        if ("params".equals(name)) {
            throw new IllegalArgumentException(
                    "ParamGroup option 'params' cannot be set: pass the parameters to the ParamGroup constructor");
        }
        if (value == null) {
            throw new IllegalArgumentException("ParamGroup option '" + name + "' must not be null");
        }
        options.put(name, normalize(name, value));
        return this;
    }

    /** Fills an option from the optimizer's defaults unless the group has its own value (torch's setdefault). */
    void setDefault(String name, Object value) {
        options.putIfAbsent(name, value);
    }

    /** Replaces all options at once; the caller has already normalized and validated them. */
    void replaceOptions(Map<String, Object> newOptions) {
        options.clear();
        options.putAll(newOptions);
    }

    private static Object normalize(String name, Object value) {
        if (DOUBLE_OPTIONS.contains(name)) {
            if (!(value instanceof Number)) {
                throw wrongType(name, value, "a number");
            }
            double number = ((Number) value).doubleValue();
            // A negative rate is never valid, whichever optimizer or scheduler sets it.
            return LR.equals(name) ? Checks.nonNegative("ParamGroup", LR, number) : number;
        }
        if (BOOLEAN_OPTIONS.contains(name)) {
            if (!(value instanceof Boolean)) {
                throw wrongType(name, value, "a boolean");
            }
            return value;
        }
        if (BETAS.equals(name)) {
            return normalizeBetas(value);
        }
        if (value instanceof List) {
            return List.copyOf((List<?>) value);
        }
        return value;
    }

    private static List<Double> normalizeBetas(Object value) {
        if (value instanceof double[] && ((double[]) value).length == 2) {
            double[] betas = (double[]) value;
            return List.of(betas[0], betas[1]);
        }
        if (value instanceof List && ((List<?>) value).size() == 2) {
            List<?> betas = (List<?>) value;
            if (betas.get(0) instanceof Number && betas.get(1) instanceof Number) {
                return List.of(((Number) betas.get(0)).doubleValue(), ((Number) betas.get(1)).doubleValue());
            }
        }
        throw wrongType(BETAS, value, "two numbers (beta1, beta2)");
    }

    private IllegalArgumentException missingOrWrongType(String name, Object value, String expected) {
        if (value == null) {
            return new IllegalArgumentException(
                    "param group has no option '" + name + "'; its options are " + options.keySet());
        }
        return wrongType(name, value, expected);
    }

    private static IllegalArgumentException wrongType(String name, Object value, String expected) {
        String shown = value instanceof double[] ? Arrays.toString((double[]) value) : String.valueOf(value);
        return new IllegalArgumentException(
                "param group option '" + name + "' must be " + expected + ", but was " + shown + " ("
                        + value.getClass().getSimpleName() + ")");
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        return "ParamGroup" + options + " with " + params.size() + " parameters";
    }
}
