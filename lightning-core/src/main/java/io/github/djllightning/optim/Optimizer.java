package io.github.djllightning.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import io.github.djllightning.checkpoint.StateDict;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Updates a model's parameters from their gradients, following one of {@code torch.optim}'s algorithms, and owns the
 * per-parameter state (moments, momentum buffers, step counts) so that it can be saved and restored exactly.
 *
 * <p>Parameters are organised in {@link ParamGroup}s, each with its own options. A training step is
 * {@link #zeroGrad()}, a backward pass, then {@link #step()}.
 * The state lives in a native manager owned by this optimizer (not the model's and not any {@link NDScope}'s), so
 * {@link #close()} it when training is over.
 *
 * <p>Subclasses implement {@link #update(ParamGroup, ParamState, NDArray, NDArray)} for one parameter and may check
 * their options in {@link #validateGroup(ParamGroup)}. Not thread-safe: one training thread drives an optimizer.
 */
public abstract class Optimizer implements AutoCloseable {

    /** Selects a whole array, whatever its rank; used to copy into an existing array in place. */
    private static final NDIndex ALL = new NDIndex("...");
    private static final long NEVER = Long.MIN_VALUE;

    private final Map<String, Object> defaults;
    private final List<ParamGroup> groups = new ArrayList<>();
    private final List<ParamGroup> groupsView = Collections.unmodifiableList(groups);
    private final Set<Parameter> known = Collections.newSetFromMap(new IdentityHashMap<>());
    private final Map<Parameter, ParamState> states = new IdentityHashMap<>();
    // reused by every step, so that the hot path allocates no lists
    private final List<ParamState> stepStates = new ArrayList<>();
    private final List<NDArray> stepWeights = new ArrayList<>();
    private final List<NDArray> stepGrads = new ArrayList<>();
    private NDManager stateManager;
    private NDManager stateParent;
    private boolean closed;

    /**
     * Creates an optimizer over several parameter groups.
     *
     * @param groups the groups, in order; each group's missing options are filled from {@code defaults}
     * @param defaults the default options by torch name (for example {@code lr}, {@code betas})
     * @throws IllegalArgumentException if there is no parameter, a parameter appears twice, or an option is invalid
     */
    @SuppressWarnings("this-escape") // validateGroup must only read the group, which its contract states
    protected Optimizer(List<ParamGroup> groups, Map<String, ?> defaults) {
        Objects.requireNonNull(groups, "groups");
        Objects.requireNonNull(defaults, "defaults");
        this.defaults = new ParamGroup(List.of(), defaults).options();
        for (ParamGroup group : groups) {
            addParamGroup(group);
        }
        if (known.isEmpty()) {
            throw new IllegalArgumentException(
                    getClass().getSimpleName() + " got no parameters: pass the model's parameters, for example "
                            + "block.getParameters().values()");
        }
    }

    /**
     * Creates an optimizer with one parameter group that takes all default options.
     *
     * @param params the parameters, in order
     * @param defaults the default options by torch name
     * @throws IllegalArgumentException if there is no parameter, a parameter appears twice, or an option is invalid
     */
    protected Optimizer(Collection<Parameter> params, Map<String, ?> defaults) {
        this(List.of(new ParamGroup(Objects.requireNonNull(params, "params"))), defaults);
    }

    /**
     * Updates one parameter in place from its gradient. Called by {@link #step()} with autograd off, for every
     * parameter that requires a gradient and has one.
     *
     * @param group the parameter's group, for its options
     * @param state the parameter's state; create tensors through it
     * @param weight the parameter's array, to update in place
     * @param grad the gradient; must not be modified (callbacks may still read it) and is closed after this call
     */
    protected abstract void update(ParamGroup group, ParamState state, NDArray weight, NDArray grad);

    /**
     * Updates the parameters of one group together, for optimizers with a kernel that updates many tensors in one
     * call. Called by {@link #step()} with autograd off, before {@link #update}; when it returns false, {@link
     * #update} is called for each parameter instead. The default returns false. The lists are reused by the next
     * step: read them during the call only.
     *
     * @param group the group, for its options
     * @param states the states of the parameters to update, in the group's order
     * @param weights their arrays, to update in place
     * @param grads their gradients; must not be modified and are closed after this call
     * @return whether the parameters were updated
     */
    protected boolean updateGroup(
            ParamGroup group, List<ParamState> states, List<NDArray> weights, List<NDArray> grads) {
        return false;
    }

    /**
     * Checks a group's options once its defaults are filled in; called when a group is added and when state is
     * loaded. It runs from the constructor, so it must only read the group. The default accepts everything.
     *
     * @param group the group to check
     * @throws IllegalArgumentException naming the bad option, its value and the valid range
     */
    protected void validateGroup(ParamGroup group) {}

    /**
     * Updates every parameter of every group that has a gradient, like torch's {@code optimizer.step()}.
     *
     * <p>Parameters without a gradient (never reached by a backward pass), frozen parameters and uninitialized ones
     * are skipped. A gradient zeroed by {@link #zeroGrad()} is a gradient of zeros, as with torch's {@code
     * zero_grad(set_to_none=False)}; the Trainer skips the whole step when no backward ran since the last zeroing.
     */
    public final void step() {
        ensureOpen();
        boolean gradMode = JniUtils.isGradMode();
        if (gradMode) {
            JniUtils.setGradMode(false);
        }
        try {
            // Index loops: no iterator garbage on the hot path.
            for (int g = 0; g < groups.size(); g++) {
                stepGroup(groups.get(g));
            }
        } finally {
            if (gradMode) {
                JniUtils.setGradMode(true);
            }
        }
    }

    private void stepGroup(ParamGroup group) {
        List<Parameter> params = group.params();
        stepStates.clear();
        stepWeights.clear();
        stepGrads.clear();
        try {
            for (int p = 0; p < params.size(); p++) {
                Parameter param = params.get(p);
                if (!param.isInitialized() || !param.requiresGradient()) {
                    continue;
                }
                PtNDArray weight = ptArray(param);
                if (!weight.hasGradient()) {
                    continue;
                }
                PtNDArray grad = JniUtils.getGradient(weight);
                if (grad == null) {
                    continue;
                }
                stepGrads.add(grad);
                stepWeights.add(weight);
                ParamState state = states.get(param);
                if (state == null) {
                    state = new ParamState(this);
                    states.put(param, state);
                }
                stepStates.add(state);
            }
            if (stepWeights.isEmpty() || updateGroup(group, stepStates, stepWeights, stepGrads)) {
                return;
            }
            for (int i = 0; i < stepWeights.size(); i++) {
                update(group, stepStates.get(i), stepWeights.get(i), stepGrads.get(i));
            }
        } finally {
            for (int i = 0; i < stepGrads.size(); i++) {
                stepGrads.get(i).close();
            }
            stepGrads.clear();
            stepWeights.clear();
            stepStates.clear();
        }
    }

    /**
     * Zeroes the gradient of every parameter in place and remembers the backward count, so that a {@link #step()}
     * without a backward pass in between does nothing.
     */
    public final void zeroGrad() {
        ensureOpen();
        for (int g = 0; g < groups.size(); g++) {
            List<Parameter> params = groups.get(g).params();
            for (int p = 0; p < params.size(); p++) {
                Parameter param = params.get(p);
                if (param.isInitialized()) {
                    JniUtils.zeroGrad(ptArray(param));
                }
            }
        }
    }

    /**
     * Adds a parameter group, for example when a fine-tuning schedule unfreezes a backbone. Options the group leaves
     * out are filled from this optimizer's defaults.
     *
     * @param group the group to add
     * @throws IllegalArgumentException if one of its parameters is already optimized here, or an option is invalid
     */
    public final void addParamGroup(ParamGroup group) {
        ensureOpen();
        Objects.requireNonNull(group, "group");
        for (Parameter param : group.params()) {
            if (known.contains(param)) {
                throw new IllegalArgumentException(
                        "parameter '" + param.getName() + "' is already in a param group of this " + name()
                                + "; each parameter may appear in one group only");
            }
        }
        defaults.forEach(group::setDefault);
        validateGroup(group);
        groups.add(group);
        known.addAll(group.params());
    }

    /**
     * Returns the parameter groups.
     *
     * @return the groups, in order; unmodifiable (change options through the groups themselves)
     */
    public List<ParamGroup> paramGroups() {
        return groupsView;
    }

    /**
     * Returns every parameter this optimizer updates.
     *
     * @return the parameters of all groups, in group order
     */
    public List<Parameter> parameters() {
        List<Parameter> all = new ArrayList<>(known.size());
        for (ParamGroup group : groups) {
            all.addAll(group.params());
        }
        return all;
    }

    /**
     * Returns the default options that groups are filled from.
     *
     * @return the defaults by torch name; unmodifiable
     */
    public Map<String, Object> defaults() {
        return defaults;
    }

    /**
     * Returns the optimizer's name as torch spells its class, used for Lightning's {@code lr-<name>} log keys.
     *
     * @return the name; by default the simple class name, for example {@code Adam}
     */
    public String name() {
        return getClass().getSimpleName();
    }

    /**
     * Returns the learning rate of the first parameter group.
     *
     * @return group 0's {@code lr}
     */
    public double lr() {
        return groups.get(0).lr();
    }

    /**
     * Sets the learning rate of every parameter group.
     *
     * @param lr the new learning rate, a finite number {@code >= 0}
     */
    public void setLr(double lr) {
        Checks.nonNegative(name(), "lr", lr);
        for (ParamGroup group : groups) {
            group.setLr(lr);
        }
    }

    /**
     * Returns the state of one parameter.
     *
     * @param param a parameter of this optimizer
     * @return its state, or {@code null} before its first update
     */
    public ParamState state(Parameter param) {
        return states.get(param);
    }

    /**
     * Returns the optimizer's state in torch's {@code optimizer.state_dict()} layout.
     *
     * <p>Values: {@code param_groups} is a list of each group's options plus {@code params}, the parameters' indices
     * across all groups in order; {@code state} maps such an index (as a string) to the parameter's scalar state,
     * {@code {"step": n}} for optimizers that count steps. Tensors are named {@code state.<index>.<name>}, for
     * example {@code state.0.exp_avg}; they are this optimizer's live arrays, so copy what must outlive the next
     * step or {@link #close()}.
     *
     * @return a new state dict
     */
    public StateDict stateDict() {
        ensureOpen();
        Map<String, Object> stateValues = new LinkedHashMap<>();
        Map<String, NDArray> tensors = new LinkedHashMap<>();
        List<Object> groupValues = new ArrayList<>(groups.size());
        int index = 0;
        for (ParamGroup group : groups) {
            Map<String, Object> options = new LinkedHashMap<>();
            group.options().forEach(
                    (key, value) -> options.put(key, value instanceof List ? new ArrayList<>((List<?>) value) : value));
            List<Integer> ids = new ArrayList<>(group.params().size());
            for (Parameter param : group.params()) {
                ids.add(index);
                ParamState state = states.get(param);
                if (state != null && !state.isEmpty()) {
                    Map<String, Object> scalars = new LinkedHashMap<>();
                    if (state.step() > 0) {
                        scalars.put("step", state.step());
                    }
                    stateValues.put(Integer.toString(index), scalars);
                    for (Map.Entry<String, NDArray> tensor : state.tensors().entrySet()) {
                        tensors.put("state." + index + "." + tensor.getKey(), tensor.getValue());
                    }
                }
                index++;
            }
            options.put("params", ids);
            groupValues.add(options);
        }
        Map<String, Object> values = new LinkedHashMap<>();
        values.put("state", stateValues);
        values.put("param_groups", groupValues);
        return new StateDict(values, tensors);
    }

    /**
     * Restores state saved by {@link #stateDict()}, like torch's {@code optimizer.load_state_dict}: the saved group
     * options replace the current ones (the parameters stay), and each parameter's state is replaced. Tensors are
     * copied into this optimizer's own arrays; the caller's arrays are not kept. Everything is checked before
     * anything changes.
     *
     * @param state the saved state
     * @throws IllegalArgumentException if the group count, a group's parameter count, a tensor's shape or a value
     *     does not match this optimizer; the message names the entry, the expected and the found value
     */
    public void loadStateDict(StateDict state) {
        ensureOpen();
        Objects.requireNonNull(state, "state");
        Map<Long, Parameter> byId = new LinkedHashMap<>();
        List<Map<String, Object>> newOptions = checkedGroupOptions(state, byId);
        Map<Parameter, Long> steps = checkedSteps(state, byId);
        Map<Parameter, Map<String, NDArray>> tensors = checkedTensors(state, byId);
        for (Parameter param : tensors.keySet()) {
            steps.putIfAbsent(param, 0L);
        }

        for (int g = 0; g < groups.size(); g++) {
            groups.get(g).replaceOptions(newOptions.get(g));
        }
        for (Parameter param : known) {
            ParamState current = states.get(param);
            Long step = steps.get(param);
            if (step == null) {
                if (current != null) {
                    current.close();
                    states.remove(param);
                }
                continue;
            }
            if (current == null) {
                current = new ParamState(this);
                states.put(param, current);
            }
            restore(current, step, tensors.getOrDefault(param, Map.of()), param);
        }
    }

    /** Checks the saved param groups against this optimizer's, maps saved ids to parameters, returns new options. */
    private List<Map<String, Object>> checkedGroupOptions(StateDict state, Map<Long, Parameter> byId) {
        String owner = name();
        List<?> savedGroups = StateValues.toList(
                StateValues.require(state.values(), "param_groups", owner), "param_groups", owner);
        if (savedGroups.size() != groups.size()) {
            throw new IllegalArgumentException(owner + " state dict has " + savedGroups.size()
                    + " param groups, but this optimizer has " + groups.size()
                    + ": configure the same param groups as the run that saved it");
        }
        List<Map<String, Object>> newOptions = new ArrayList<>(groups.size());
        for (int g = 0; g < groups.size(); g++) {
            ParamGroup group = groups.get(g);
            String key = "param_groups[" + g + "]";
            Map<?, ?> saved = StateValues.toMap(savedGroups.get(g), key, owner);
            List<?> ids = StateValues.toList(StateValues.require(saved, "params", owner), key + ".params", owner);
            if (ids.size() != group.params().size()) {
                throw new IllegalArgumentException(owner + " state dict " + key + " has " + ids.size()
                        + " parameters, but this optimizer's group " + g + " has " + group.params().size()
                        + ": configure the same parameters as the run that saved it");
            }
            // Like torch, saved ids map to the current parameters by position.
            for (int p = 0; p < ids.size(); p++) {
                byId.put(StateValues.toLong(ids.get(p), key + ".params[" + p + "]", owner), group.params().get(p));
            }
            ParamGroup checked = new ParamGroup(group.params());
            saved.forEach((name, value) -> {
                if (!"params".equals(name)) {
                    checked.set(String.valueOf(name), value);
                }
            });
            defaults.forEach(checked::setDefault);
            validateGroup(checked);
            newOptions.add(new LinkedHashMap<>(checked.options()));
        }
        return newOptions;
    }

    private Map<Parameter, Long> checkedSteps(StateDict state, Map<Long, Parameter> byId) {
        String owner = name();
        Map<Parameter, Long> steps = new IdentityHashMap<>();
        Map<?, ?> saved = StateValues.toMap(state.values().getOrDefault("state", Map.of()), "state", owner);
        for (Map.Entry<?, ?> entry : saved.entrySet()) {
            String key = "state." + entry.getKey();
            Parameter param = parameterFor(byId, String.valueOf(entry.getKey()), key, owner);
            Object step = StateValues.toMap(entry.getValue(), key, owner).get("step");
            steps.put(param, step == null ? 0L : StateValues.toLong(step, key + ".step", owner));
        }
        return steps;
    }

    private Map<Parameter, Map<String, NDArray>> checkedTensors(StateDict state, Map<Long, Parameter> byId) {
        String owner = name();
        Map<Parameter, Map<String, NDArray>> tensors = new IdentityHashMap<>();
        for (Map.Entry<String, NDArray> entry : state.tensors().entrySet()) {
            String key = entry.getKey();
            String[] parts = key.split("\\.", 3);
            if (parts.length != 3 || !"state".equals(parts[0]) || parts[2].isEmpty()) {
                throw new IllegalArgumentException(owner + " state dict tensor '" + key
                        + "' is not named state.<parameter index>.<state name>");
            }
            Parameter param = parameterFor(byId, parts[1], key, owner);
            NDArray tensor = Objects.requireNonNull(entry.getValue(), key);
            if (!param.isInitialized()) {
                throw new IllegalArgumentException(owner + " state dict tensor '" + key + "' belongs to parameter '"
                        + param.getName() + "', which is not initialized: initialize the model before loading");
            }
            Shape expected = param.getArray().getShape();
            if (!tensor.getShape().equals(expected)) {
                throw new IllegalArgumentException(owner + " state dict tensor '" + key + "' has shape "
                        + tensor.getShape() + ", but parameter " + parts[1] + " ('" + param.getName()
                        + "') has shape " + expected);
            }
            tensors.computeIfAbsent(param, p -> new LinkedHashMap<>()).put(parts[2], tensor);
        }
        return tensors;
    }

    private static void restore(ParamState target, long step, Map<String, NDArray> saved, Parameter param) {
        target.setStep(step);
        for (String name : new ArrayList<>(target.tensors().keySet())) {
            if (!saved.containsKey(name)) {
                target.removeTensor(name);
            }
        }
        for (Map.Entry<String, NDArray> entry : saved.entrySet()) {
            NDArray weight = param.getArray();
            NDArray existing = target.tensor(entry.getKey());
            if (existing != null && (existing.getDataType() != weight.getDataType()
                    || !existing.getDevice().equals(weight.getDevice()))) {
                target.removeTensor(entry.getKey());
            }
            copyInto(target.zerosLike(entry.getKey(), weight), entry.getValue());
        }
    }

    private static Parameter parameterFor(Map<Long, Parameter> byId, String id, String key, String owner) {
        Parameter param = null;
        try {
            param = byId.get(Long.parseLong(id));
        } catch (NumberFormatException e) {
            // reported below with the known ids
        }
        if (param == null) {
            throw new IllegalArgumentException(owner + " state dict entry '" + key + "' refers to parameter " + id
                    + ", but the param groups list parameters " + byId.keySet());
        }
        return param;
    }

    /**
     * Copies {@code source} into {@code target} in place, converting data type and device if needed, so that
     * whoever holds {@code target} sees the new values.
     */
    private static void copyInto(NDArray target, NDArray source) {
        NDArray converted = source;
        try {
            if (!converted.getDevice().equals(target.getDevice())) {
                converted = converted.toDevice(target.getDevice(), true);
            }
            if (converted.getDataType() != target.getDataType()) {
                NDArray cast = converted.toType(target.getDataType(), true);
                if (converted != source) {
                    converted.close();
                }
                converted = cast;
            }
            target.set(ALL, converted);
        } finally {
            if (converted != source) {
                converted.close();
            }
        }
    }

    NDArray newStateZeros(NDArray like) {
        NDArray zeros = stateManager(like).zeros(like.getShape(), like.getDataType(), like.getDevice());
        // The Trainer may run the step inside an NDScope, which would otherwise close the state with the step.
        NDScope.unregister(zeros);
        return zeros;
    }

    NDArray newStateCopy(NDArray source) {
        NDArray copy = source.duplicate();
        copy.attach(stateManager(source));
        NDScope.unregister(copy);
        return copy;
    }

    private NDManager stateManager(NDArray like) {
        if (stateManager == null) {
            stateManager = stateParent != null && stateParent.isOpen()
                    ? stateParent.newSubManager(like.getDevice())
                    : NDManager.newBaseManager(like.getDevice());
        }
        return stateManager;
    }

    /**
     * Makes the state (created on the first step) a child of the given manager, so closing that manager, usually
     * the model's, frees it too. The Trainer calls this with the module's manager.
     *
     * @param parent a long-lived manager
     */
    public void keepStateUnder(NDManager parent) {
        this.stateParent = parent;
    }

    private static PtNDArray ptArray(Parameter param) {
        NDArray array = param.getArray();
        if (!(array instanceof PtNDArray)) {
            throw new IllegalStateException("parameter '" + param.getName() + "' is a "
                    + array.getClass().getSimpleName() + "; djl-lightning optimizers need the PyTorch engine");
        }
        return (PtNDArray) array;
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException(name() + " optimizer is closed (its state was freed when the module was"
                    + " closed or a later fit configured new optimizers); return a new optimizer from"
                    + " configureOptimizers() for each fit.");
        }
    }

    /** Frees all optimizer state; the optimizer cannot be used afterwards. Closing twice does nothing. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (ParamState state : states.values()) {
            state.close();
        }
        states.clear();
        if (stateManager != null) {
            stateManager.close();
            stateManager = null;
        }
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        return name() + "(" + groups.size() + " param groups, " + known.size() + " parameters, lr=" + lr() + ")";
    }
}
