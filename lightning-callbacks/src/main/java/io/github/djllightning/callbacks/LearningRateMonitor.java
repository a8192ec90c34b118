package io.github.djllightning.callbacks;

import ai.djl.training.dataset.Batch;
import io.github.djllightning.callback.Callback;
import io.github.djllightning.log.Logger;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.optim.Optimizer;
import io.github.djllightning.optim.ParamGroup;
import io.github.djllightning.optim.SchedulerConfig;
import io.github.djllightning.trainer.MisconfigurationException;
import io.github.djllightning.trainer.Trainer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.LoggerFactory;

/**
 * Logs the learning rate of every optimizer while fit trains, and optionally its momentum and weight decay.
 * Lightning's {@code LearningRateMonitor}.
 *
 * <pre>{@code
 * Trainer.builder().callbacks(new LearningRateMonitor("step")).build();
 * // metrics.csv gets a column lr-Adam with the rate in use at each logged step
 * }</pre>
 *
 * <p><b>Names.</b> A rate is logged as {@code lr-<optimizer>} ({@code lr-Adam}, {@code lr-SGD}), or under the
 * {@link SchedulerConfig.Builder#name(String) name} of its scheduler config. A second optimizer of the same class is
 * {@code lr-Adam-1}, a third {@code lr-Adam-2}. An optimizer with several param groups logs one value per group,
 * {@code lr-Adam/pg1}, {@code lr-Adam/pg2}, ..., or {@code lr-Adam/<name>} for groups that have a {@code "name"}
 * option (a single named group is also {@code lr-Adam/<name>}). The momentum ({@code momentum}, or {@code beta1} of
 * optimizers with {@code betas}) is logged as {@code <name>-momentum}, the weight decay as
 * {@code <name>-weight_decay}. {@code logKeyPrefix} is put in front of every name. Optimizers without a scheduler are
 * logged too.
 *
 * <p><b>When.</b> With {@code loggingInterval} null (the default), a scheduler stepped every optimizer step is
 * logged at the training batches that also send step metrics (every {@code logEveryNSteps}-th stepping batch), and
 * a scheduler stepped every epoch at the start of each training epoch; optimizers without a scheduler are logged at
 * both. {@code "step"} logs everything at those batches, {@code "epoch"} at each epoch start. Each time the values
 * go to every logger directly, as one row whose step is the number of optimizer-stepping batches so far (the row has
 * no {@code epoch} value), and they also become {@link Trainer#callbackMetrics() callback metrics}, so for example
 * early stopping can monitor {@code lr-Adam}.
 *
 * <p>The callback needs a logger: fit fails at its start without one. It has no checkpoint state; after a resume the
 * rates it logs are those of the restored optimizers and schedulers.
 */
public class LearningRateMonitor implements Callback {

    private static final org.slf4j.Logger LOG = LoggerFactory.getLogger(LearningRateMonitor.class);
    private static final String STEP = "step";
    private static final String EPOCH = "epoch";
    private static final String ANY = "any";
    private static final String MOMENTUM_SUFFIX = "-momentum";
    private static final String WEIGHT_DECAY_SUFFIX = "-weight_decay";

    private final String loggingInterval;
    private final boolean logMomentum;
    private final boolean logWeightDecay;
    private final String logKeyPrefix;
    private final Map<String, List<Double>> lrs = new LinkedHashMap<>();
    private final Map<String, Double> lastMomentumValues = new LinkedHashMap<>();
    private final Map<String, Double> lastWeightDecayValues = new LinkedHashMap<>();

    /** A monitor with Lightning's defaults: each scheduler at its own interval, no momentum, no weight decay. */
    public LearningRateMonitor() {
        this(builder());
    }

    /**
     * A monitor logging at the given interval.
     *
     * @param loggingInterval {@code "step"}, {@code "epoch"}, or null to follow each scheduler's interval
     * @throws MisconfigurationException for any other value
     */
    public LearningRateMonitor(String loggingInterval) {
        this(builder().loggingInterval(loggingInterval));
    }

    /**
     * Creates a monitor from a builder.
     *
     * @param b the builder
     */
    protected LearningRateMonitor(Builder b) {
        this.loggingInterval = b.loggingInterval;
        this.logMomentum = b.logMomentum;
        this.logWeightDecay = b.logWeightDecay;
        this.logKeyPrefix = b.logKeyPrefix == null ? "" : b.logKeyPrefix;
    }

    /**
     * Starts a builder with Lightning's defaults.
     *
     * @return the builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Checks that there is a logger and finds the names of all rates.
     *
     * @throws MisconfigurationException when the Trainer has no logger
     */
    @Override
    public void onTrainStart(Trainer trainer, LightningModule module) {
        if (trainer.loggers().isEmpty()) {
            throw new MisconfigurationException("Cannot use LearningRateMonitor with a Trainer that has no logger:"
                    + " the Trainer was built with logger(false). Keep the default logger, pass one with"
                    + " loggers(...), or remove the LearningRateMonitor.");
        }
        if (logMomentum) {
            warnWithoutMomentum(trainer);
        }
        lrs.clear();
        lastMomentumValues.clear();
        lastWeightDecayValues.clear();
        for (Named named : findNames(trainer)) {
            for (String name : named.names()) {
                lrs.put(name, new ArrayList<>());
                lastMomentumValues.put(name + MOMENTUM_SUFFIX, null);
                lastWeightDecayValues.put(name + WEIGHT_DECAY_SUFFIX, null);
            }
        }
    }

    private static void warnWithoutMomentum(Trainer trainer) {
        List<Optimizer> optimizers = new ArrayList<>();
        List<SchedulerConfig> schedulers = trainer.lrSchedulerConfigs();
        if (schedulers.isEmpty()) {
            optimizers.addAll(trainer.optimizers());
        } else {
            for (SchedulerConfig config : schedulers) {
                optimizers.add(config.scheduler().optimizer());
            }
        }
        boolean anyWithout = false;
        for (Optimizer optimizer : optimizers) {
            Map<String, Object> defaults = optimizer.defaults();
            anyWithout |= !defaults.containsKey(ParamGroup.MOMENTUM) && !defaults.containsKey(ParamGroup.BETAS);
        }
        if (anyWithout) {
            LOG.warn("LearningRateMonitor has logMomentum(true), but some optimizers have no momentum; 0 is logged"
                    + " as their momentum.");
        }
    }

    @Override
    public void onTrainBatchStart(Trainer trainer, LightningModule module, Batch batch, int batchIdx) {
        if (EPOCH.equals(loggingInterval) || !LogSchedule.trainBatchDue(trainer)) {
            return;
        }
        send(trainer, extractStats(trainer, loggingInterval == null ? STEP : ANY));
    }

    @Override
    public void onTrainEpochStart(Trainer trainer, LightningModule module) {
        if (STEP.equals(loggingInterval)) {
            return;
        }
        send(trainer, extractStats(trainer, loggingInterval == null ? EPOCH : ANY));
    }

    private static void send(Trainer trainer, Map<String, Double> stats) {
        if (stats.isEmpty()) {
            return;
        }
        long step = LogSchedule.step(trainer);
        for (Logger logger : trainer.loggers()) {
            logger.logMetrics(stats, step);
        }
    }

    /**
     * The current values of every optimizer whose scheduler matches the interval, and of every optimizer without a
     * scheduler; they are also recorded in the history and put into the callback metrics.
     */
    private Map<String, Double> extractStats(Trainer trainer, String interval) {
        Map<String, Double> stats = new LinkedHashMap<>();
        List<Named> all = findNames(trainer);
        for (Named named : all) {
            remapKeys(named.names());
        }
        for (Named named : all) {
            SchedulerConfig config = named.config();
            if (config == null || ANY.equals(interval) || intervalName(config).equals(interval)) {
                stats.putAll(optimizerStats(named.optimizer(), named.names()));
            }
        }
        trainer.metrics().putCallbackMetrics(stats);
        return stats;
    }

    private static String intervalName(SchedulerConfig config) {
        return config.interval() == SchedulerConfig.Interval.STEP ? STEP : EPOCH;
    }

    private Map<String, Double> optimizerStats(Optimizer optimizer, List<String> names) {
        Map<String, Double> stats = new LinkedHashMap<>();
        List<ParamGroup> groups = optimizer.paramGroups();
        boolean useBetas = optimizer.defaults().containsKey(ParamGroup.BETAS);
        for (int i = 0; i < groups.size() && i < names.size(); i++) {
            ParamGroup group = groups.get(i);
            String name = names.get(i);
            double lr = group.lr();
            lrs.computeIfAbsent(name, k -> new ArrayList<>()).add(lr);
            stats.put(name, lr);
            if (logMomentum) {
                double momentum = useBetas
                        ? group.getDouble(ParamGroup.BETAS, 0)
                        : (group.has(ParamGroup.MOMENTUM) ? group.getDouble(ParamGroup.MOMENTUM) : 0.0);
                lastMomentumValues.put(name + MOMENTUM_SUFFIX, momentum);
                stats.put(name + MOMENTUM_SUFFIX, momentum);
            }
            if (logWeightDecay) {
                double decay = group.has(ParamGroup.WEIGHT_DECAY) ? group.getDouble(ParamGroup.WEIGHT_DECAY) : 0.0;
                lastWeightDecayValues.put(name + WEIGHT_DECAY_SUFFIX, decay);
                stats.put(name + WEIGHT_DECAY_SUFFIX, decay);
            }
        }
        return stats;
    }

    /**
     * When an optimizer gains param groups during fit (a backbone unfrozen, say), its single name {@code lr-Adam}
     * becomes {@code lr-Adam/pg1}: the history recorded so far moves to the new name.
     */
    private void remapKeys(List<String> names) {
        String token = "/pg1";
        for (String name : names) {
            String old = name.replace(token, "");
            if (name.contains(token) && lrs.containsKey(old)) {
                lrs.put(name, lrs.remove(old));
            } else {
                lrs.putIfAbsent(name, new ArrayList<>());
            }
        }
    }

    /** An optimizer, the scheduler config that drives it (null for none), and the names of its groups' rates. */
    private record Named(Optimizer optimizer, SchedulerConfig config, List<String> names) {}

    /** Names every scheduled optimizer first, then the optimizers without a scheduler, as Lightning does. */
    private List<Named> findNames(Trainer trainer) {
        List<Named> out = new ArrayList<>();
        Set<Optimizer> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        Map<Class<?>, Integer> seenTypes = new HashMap<>();
        for (SchedulerConfig config : trainer.lrSchedulerConfigs()) {
            Optimizer optimizer = config.scheduler().optimizer();
            String base = config.name() != null ? config.name() : "lr-" + optimizer.name();
            out.add(new Named(optimizer, config, groupNames(optimizer, base, config.name() == null, seen, seenTypes)));
        }
        for (Optimizer optimizer : trainer.optimizers()) {
            if (seen.contains(optimizer)) {
                continue;
            }
            out.add(new Named(optimizer, null, groupNames(optimizer, "lr-" + optimizer.name(), true, seen, seenTypes)));
        }
        return out;
    }

    private List<String> groupNames(
            Optimizer optimizer, String base, boolean counted, Set<Optimizer> seen, Map<Class<?>, Integer> seenTypes) {
        seen.add(optimizer);
        Class<?> type = optimizer.getClass();
        if (counted) {
            seenTypes.merge(type, 1, Integer::sum);
        }
        List<ParamGroup> groups = optimizer.paramGroups();
        Set<String> duplicates = duplicateGroupNames(groups);
        if (!duplicates.isEmpty()) {
            throw new MisconfigurationException("An optimizer cannot have several param groups with the same \"name\""
                    + " option: " + base + " has the duplicated param group names " + duplicates + ". Give each"
                    + " group a different name, or leave the names out to get pg1, pg2, ...");
        }
        Integer count = seenTypes.get(type);
        String name = count != null && count > 1 ? base + "-" + (count - 1) : base;
        List<String> names = new ArrayList<>(groups.size());
        for (int i = 0; i < groups.size(); i++) {
            names.add(logKeyPrefix + withGroupSuffix(name, groups, i));
        }
        return names;
    }

    private static String withGroupSuffix(String name, List<ParamGroup> groups, int index) {
        Object groupName = groups.get(index).options().get("name");
        if (groups.size() > 1) {
            return name + "/" + (groupName != null ? groupName : "pg" + (index + 1));
        }
        return groupName != null ? name + "/" + groupName : name;
    }

    private static Set<String> duplicateGroupNames(List<ParamGroup> groups) {
        Set<String> unique = new LinkedHashSet<>();
        Set<String> duplicates = new LinkedHashSet<>();
        for (int i = 0; i < groups.size(); i++) {
            Object groupName = groups.get(i).options().get("name");
            String name = groupName != null ? groupName.toString() : "pg" + (i + 1);
            if (!unique.add(name)) {
                duplicates.add(name);
            }
        }
        return duplicates;
    }

    /** The logging interval: {@code "step"}, {@code "epoch"}, or null for each scheduler's own. */
    public String loggingInterval() {
        return loggingInterval;
    }

    /** Whether momentum values are logged. */
    public boolean logMomentum() {
        return logMomentum;
    }

    /** Whether weight decay values are logged. */
    public boolean logWeightDecay() {
        return logWeightDecay;
    }

    /** The prefix put in front of every logged name (empty for none). */
    public String logKeyPrefix() {
        return logKeyPrefix;
    }

    /**
     * Every learning rate logged in the current or last fit, by name, in logging order (Lightning's {@code lrs}).
     *
     * @return an unmodifiable view
     */
    public Map<String, List<Double>> lrs() {
        Map<String, List<Double>> view = new LinkedHashMap<>();
        lrs.forEach((name, values) -> view.put(name, Collections.unmodifiableList(values)));
        return Collections.unmodifiableMap(view);
    }

    /**
     * The last momentum logged per name ({@code <name>-momentum}); null before the first log.
     *
     * @return an unmodifiable view
     */
    public Map<String, Double> lastMomentumValues() {
        return Collections.unmodifiableMap(lastMomentumValues);
    }

    /**
     * The last weight decay logged per name ({@code <name>-weight_decay}); null before the first log.
     *
     * @return an unmodifiable view
     */
    public Map<String, Double> lastWeightDecayValues() {
        return Collections.unmodifiableMap(lastWeightDecayValues);
    }

    /** Configures a {@link LearningRateMonitor}; every setter has Lightning's default. */
    public static class Builder {
        private String loggingInterval;
        private boolean logMomentum;
        private boolean logWeightDecay;
        private String logKeyPrefix;

        Builder() {}

        /**
         * When rates are logged: {@code "step"} (at the batches that send step metrics), {@code "epoch"} (at each
         * training epoch's start), or null (default) for each scheduler's own interval.
         *
         * @param value the interval
         * @return this builder
         * @throws MisconfigurationException for any other value
         */
        public Builder loggingInterval(String value) {
            if (value != null && !STEP.equals(value) && !EPOCH.equals(value)) {
                throw new MisconfigurationException("LearningRateMonitor loggingInterval must be \"step\", \"epoch\""
                        + " or null (each scheduler's own interval), got \"" + value + "\".");
            }
            loggingInterval = value;
            return this;
        }

        /**
         * Whether to log the momentum too ({@code momentum}, or {@code beta1} for optimizers with {@code betas});
         * default false.
         *
         * @param value true to log it
         * @return this builder
         */
        public Builder logMomentum(boolean value) {
            logMomentum = value;
            return this;
        }

        /**
         * Whether to log the weight decay too; default false.
         *
         * @param value true to log it
         * @return this builder
         */
        public Builder logWeightDecay(boolean value) {
            logWeightDecay = value;
            return this;
        }

        /**
         * A prefix for every logged name, for example {@code "optim/"} for {@code optim/lr-Adam}; default none.
         *
         * @param value the prefix, or null for none
         * @return this builder
         */
        public Builder logKeyPrefix(String value) {
            logKeyPrefix = value;
            return this;
        }

        /**
         * Builds the callback.
         *
         * @return the monitor
         */
        public LearningRateMonitor build() {
            return new LearningRateMonitor(this);
        }
    }
}
