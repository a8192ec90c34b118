package io.github.djllightning.callbacks;

import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.norm.BatchNorm;
import io.github.djllightning.callback.Callback;
import io.github.djllightning.checkpoint.ParameterNames;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.optim.Optimizer;
import io.github.djllightning.optim.ParamGroup;
import io.github.djllightning.trainer.MisconfigurationException;
import io.github.djllightning.trainer.Trainer;
import io.github.djllightning.trainer.TrainerFn;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The base of fine-tuning schedules that freeze parts of a module before training and unfreeze them later, adding
 * their parameters to the optimizer as new param groups. Lightning's {@code BaseFinetuning}.
 *
 * <p>A subclass implements {@link #freezeBeforeTraining}, called in {@code setup} (before {@code configureOptimizers}),
 * and {@link #finetuneFunction}, called at the start of every training epoch for every optimizer. The static helpers
 * freeze, unfreeze and add param groups; the module's {@code configureOptimizers} should give the optimizer only the
 * parameters that are not frozen, for example {@code child("head").getParameters().values()}.
 *
 * <p>The param groups present at each epoch start are saved in checkpoints (by parameter name, with their options),
 * so a resumed fit adds the same groups back before the optimizer's state is restored, and makes their parameters
 * trainable again (Lightning restores the groups but leaves their parameters frozen).
 *
 * <p>Freezing a parameter stops its gradient ({@link Parameter#freeze(boolean)}); BatchNorm's running statistics are
 * never made trainable. DJL's BatchNorm has no per-layer switch for its running statistics, so they keep updating in
 * training mode even while the layer is frozen.
 */
public abstract class BaseFinetuning implements Callback {

    private static final Logger LOG = LoggerFactory.getLogger(BaseFinetuning.class);

    private final Map<Integer, List<Map<String, Object>>> internalOptimizerMetadata = new LinkedHashMap<>();
    private boolean restarting;

    /** Creates the callback. */
    protected BaseFinetuning() {}

    /**
     * Freezes what must not train at first; called in {@code setup} of every run, before the optimizers exist.
     *
     * @param module the module
     */
    protected abstract void freezeBeforeTraining(LightningModule module);

    /**
     * Unfreezes what is due at this epoch and adjusts learning rates; called at the start of every training epoch,
     * once per optimizer.
     *
     * @param module the module
     * @param epoch the epoch starting, from 0
     * @param optimizer the optimizer
     */
    protected abstract void finetuneFunction(LightningModule module, int epoch, Optimizer optimizer);

    // ------------------------------------------------------------------ helpers

    /**
     * The blocks whose parameters a freeze touches: the leaves of the block tree and the blocks with parameters of
     * their own.
     *
     * @param block the root block
     * @return the blocks, root first, depth first
     */
    public static List<Block> flattenModules(Block block) {
        List<Block> out = new ArrayList<>();
        collect(block, out);
        return out;
    }

    private static void collect(Block block, List<Block> out) {
        if (block.getChildren().isEmpty() || !block.getDirectParameters().isEmpty()) {
            out.add(block);
        }
        for (Block child : block.getChildren().values()) {
            collect(child, out);
        }
    }

    private static boolean isRunningStatistic(Parameter parameter) {
        Parameter.Type type = parameter.getType();
        return type == Parameter.Type.RUNNING_MEAN || type == Parameter.Type.RUNNING_VAR;
    }

    /**
     * The trainable (or frozen) parameters of a block, without BatchNorm's running statistics.
     *
     * @param block the block
     * @param trainBn whether to include the parameters of BatchNorm layers
     * @param requiresGrad true for the trainable parameters, false for the frozen ones
     * @return the parameters, in block order
     */
    public static List<Parameter> filterParams(Block block, boolean trainBn, boolean requiresGrad) {
        List<Parameter> out = new ArrayList<>();
        for (Block leaf : flattenModules(block)) {
            if (leaf instanceof BatchNorm && !trainBn) {
                continue;
            }
            for (Parameter parameter : leaf.getDirectParameters().values()) {
                if (!isRunningStatistic(parameter) && parameter.requiresGradient() == requiresGrad) {
                    out.add(parameter);
                }
            }
        }
        return out;
    }

    /**
     * Makes every parameter of a block trainable, except BatchNorm's running statistics.
     *
     * @param block the block
     */
    public static void makeTrainable(Block block) {
        for (Block leaf : flattenModules(block)) {
            for (Parameter parameter : leaf.getDirectParameters().values()) {
                if (!isRunningStatistic(parameter)) {
                    parameter.freeze(false);
                }
            }
        }
    }

    /**
     * Freezes the parameters a block holds itself (not those of its children).
     *
     * @param block the block
     */
    public static void freezeModule(Block block) {
        for (Parameter parameter : block.getDirectParameters().values()) {
            parameter.freeze(true);
        }
    }

    /**
     * Freezes every parameter of a block.
     *
     * @param block the block
     * @param trainBn whether BatchNorm layers stay trainable
     */
    public static void freeze(Block block, boolean trainBn) {
        for (Block leaf : flattenModules(block)) {
            if (leaf instanceof BatchNorm && trainBn) {
                makeTrainable(leaf);
            } else {
                freezeModule(leaf);
            }
        }
    }

    /**
     * The parameters that the optimizer does not hold yet; warns about the others, which stay where they are.
     *
     * @param optimizer the optimizer
     * @param params the candidates
     * @return the candidates in no param group of the optimizer
     */
    public static List<Parameter> filterOnOptimizer(Optimizer optimizer, List<Parameter> params) {
        Set<Parameter> held = Collections.newSetFromMap(new IdentityHashMap<>());
        held.addAll(optimizer.parameters());
        List<Parameter> out = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        for (Parameter parameter : params) {
            if (held.contains(parameter)) {
                skipped.add(parameter.getName());
            } else {
                out.add(parameter);
            }
        }
        if (!skipped.isEmpty()) {
            LOG.warn("The parameters to unfreeze {} are already in a param group of {}, so they train at that group's"
                    + " learning rate and are not added again. Give the optimizer only the trainable parameters in"
                    + " configureOptimizers, e.g. child(\"head\").getParameters().values().", skipped,
                    optimizer.name());
        }
        return out;
    }

    /**
     * Unfreezes a block and adds its parameters to the optimizer as a new param group.
     *
     * @param block the block to unfreeze
     * @param optimizer the optimizer
     * @param lr the new group's learning rate, or null for group 0's divided by {@code initialDenomLr}
     * @param initialDenomLr the divisor used when {@code lr} is null, {@code > 0}
     * @param trainBn whether the parameters of BatchNorm layers join the group
     * @return whether a group was added (not when the optimizer already holds all the parameters)
     */
    public static boolean unfreezeAndAddParamGroup(
            Block block, Optimizer optimizer, Double lr, double initialDenomLr, boolean trainBn) {
        makeTrainable(block);
        double paramsLr = lr == null ? optimizer.paramGroups().get(0).lr() : lr;
        double denomLr = lr == null ? initialDenomLr : 1.0;
        List<Parameter> params = filterOnOptimizer(optimizer, filterParams(block, trainBn, true));
        if (params.isEmpty()) {
            return false;
        }
        optimizer.addParamGroup(new ParamGroup(params, Map.of(ParamGroup.LR, paramsLr / denomLr)));
        return true;
    }

    // ------------------------------------------------------------------ hooks

    @Override
    public void setup(Trainer trainer, LightningModule module, TrainerFn stage) {
        if (stage == TrainerFn.FIT) {
            // a new fit records its own groups; a resumed one gets the saved ones back after this hook
            internalOptimizerMetadata.clear();
            restarting = false;
        }
        freezeBeforeTraining(module);
    }

    @Override
    public void onFitStart(Trainer trainer, LightningModule module) {
        if (!restarting) {
            return;
        }
        restarting = false;
        Map<String, Parameter> byName = ParameterNames.of(module);
        List<Optimizer> optimizers = trainer.optimizers();
        for (Map.Entry<Integer, List<Map<String, Object>>> entry : internalOptimizerMetadata.entrySet()) {
            int index = entry.getKey();
            if (index >= optimizers.size()) {
                throw new MisconfigurationException(getClass().getSimpleName() + "'s checkpoint state has param"
                        + " groups for optimizer " + index + ", but configureOptimizers returned "
                        + optimizers.size() + " optimizers; configure the optimizers of the run that saved it.");
            }
            restoreGroups(optimizers.get(index), index, entry.getValue(), byName);
        }
    }

    private void restoreGroups(
            Optimizer optimizer, int index, List<Map<String, Object>> saved, Map<String, Parameter> byName) {
        List<ParamGroup> groups = optimizer.paramGroups();
        Map<Parameter, String> names = names(byName);
        for (int g = 0; g < Math.min(groups.size(), saved.size()); g++) {
            List<String> now = new ArrayList<>();
            for (Parameter parameter : groups.get(g).params()) {
                now.add(names.get(parameter));
            }
            if (!now.equals(saved.get(g).get("params"))) {
                throw new MisconfigurationException(getClass().getSimpleName() + "'s checkpoint state has param"
                        + " group " + g + " of optimizer " + index + " with parameters " + saved.get(g).get("params")
                        + ", but configureOptimizers gives " + now + "; configure the optimizers of the run that"
                        + " saved it.");
            }
        }
        for (int g = groups.size(); g < saved.size(); g++) {
            Map<String, Object> options = new LinkedHashMap<>(saved.get(g));
            Object listed = options.remove("params");
            List<Parameter> params = new ArrayList<>();
            for (Object name : listed instanceof List ? (List<?>) listed : List.of()) {
                Parameter parameter = byName.get(String.valueOf(name));
                if (parameter == null) {
                    throw new MisconfigurationException(getClass().getSimpleName() + "'s checkpoint state names"
                            + " parameter '" + name + "', which the module does not have; its parameters are "
                            + byName.keySet());
                }
                parameter.freeze(false);
                params.add(parameter);
            }
            optimizer.addParamGroup(new ParamGroup(params, options));
        }
    }

    @Override
    public void onTrainEpochStart(Trainer trainer, LightningModule module) {
        List<Optimizer> optimizers = trainer.optimizers();
        for (int i = 0; i < optimizers.size(); i++) {
            Optimizer optimizer = optimizers.get(i);
            int before = optimizer.paramGroups().size();
            finetuneFunction(module, trainer.currentEpoch(), optimizer);
            store(module, i, before, optimizer.paramGroups());
        }
    }

    private void store(LightningModule module, int index, int before, List<ParamGroup> groups) {
        List<Map<String, Object>> saved = internalOptimizerMetadata.get(index);
        if (saved != null && before == groups.size()) {
            return;
        }
        Map<Parameter, String> names = names(ParameterNames.of(module));
        if (saved == null) {
            saved = new ArrayList<>();
            internalOptimizerMetadata.put(index, saved);
            before = 0;
        }
        for (ParamGroup group : groups.subList(before, groups.size())) {
            saved.add(describe(group, names, module));
        }
    }

    private static Map<Parameter, String> names(Map<String, Parameter> byName) {
        Map<Parameter, String> names = new IdentityHashMap<>();
        byName.forEach((name, parameter) -> names.put(parameter, name));
        return names;
    }

    private static Map<String, Object> describe(
            ParamGroup group, Map<Parameter, String> names, LightningModule module) {
        Map<String, Object> out = new LinkedHashMap<>();
        group.options().forEach((key, value) -> out.put(key, value instanceof List ? new ArrayList<>((List<?>) value)
                : value));
        List<String> params = new ArrayList<>();
        for (Parameter parameter : group.params()) {
            String name = names.get(parameter);
            if (name == null) {
                throw new MisconfigurationException("A param group holds parameter '" + parameter.getName() + "',"
                        + " which is not a parameter of " + module.getClass().getSimpleName() + "; fine-tuning"
                        + " callbacks save param groups by the module's parameter names.");
            }
            params.add(name);
        }
        out.put("params", params);
        return out;
    }

    /**
     * The param groups recorded for checkpoints, by optimizer index: each group's options and its parameters' names.
     *
     * @return the recorded groups; unmodifiable
     */
    public Map<Integer, List<Map<String, Object>>> internalOptimizerMetadata() {
        return Collections.unmodifiableMap(internalOptimizerMetadata);
    }

    @Override
    public Map<String, Object> stateDict() {
        Map<String, Object> metadata = new LinkedHashMap<>();
        internalOptimizerMetadata.forEach((index, groups) -> {
            List<Object> copy = new ArrayList<>();
            for (Map<String, Object> group : groups) {
                copy.add(new LinkedHashMap<>(group));
            }
            metadata.put(Integer.toString(index), copy);
        });
        Map<String, Object> state = new LinkedHashMap<>();
        state.put("internal_optimizer_metadata", metadata);
        return state;
    }

    @Override
    @SuppressWarnings("unchecked")
    public void loadStateDict(Map<String, Object> state) {
        Object metadata = state.get("internal_optimizer_metadata");
        if (!(metadata instanceof Map)) {
            throw new IllegalArgumentException("internal_optimizer_metadata must be an object, found " + metadata);
        }
        Map<Integer, List<Map<String, Object>>> restored = new LinkedHashMap<>();
        for (Map.Entry<String, Object> entry : ((Map<String, Object>) metadata).entrySet()) {
            int index;
            try {
                index = Integer.parseInt(entry.getKey());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("internal_optimizer_metadata keys are optimizer indices, found '"
                        + entry.getKey() + "'", e);
            }
            if (index < 0 || !(entry.getValue() instanceof List)) {
                throw new IllegalArgumentException("internal_optimizer_metadata." + entry.getKey() + " must be a list"
                        + " of param groups, found " + entry.getValue());
            }
            List<Map<String, Object>> groups = new ArrayList<>();
            for (Object group : (List<?>) entry.getValue()) {
                if (!(group instanceof Map) || !(((Map<?, ?>) group).get("params") instanceof List)) {
                    throw new IllegalArgumentException("internal_optimizer_metadata." + entry.getKey() + " holds a"
                            + " param group without a 'params' list: " + group);
                }
                groups.add(new LinkedHashMap<>((Map<String, Object>) group));
            }
            restored.put(index, groups);
        }
        internalOptimizerMetadata.clear();
        internalOptimizerMetadata.putAll(restored);
        restarting = true;
    }
}
