package io.github.djllightning.callbacks;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.pytorch.jni.JniUtils;
import io.github.djllightning.callback.Callback;
import io.github.djllightning.checkpoint.Checkpoint;
import io.github.djllightning.checkpoint.CheckpointException;
import io.github.djllightning.checkpoint.ParameterNames;
import io.github.djllightning.checkpoint.StateDict;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.optim.Optimizer;
import io.github.djllightning.optim.ParamGroup;
import io.github.djllightning.optim.SchedulerConfig;
import io.github.djllightning.trainer.MisconfigurationException;
import io.github.djllightning.trainer.Trainer;
import io.github.djllightning.trainer.TrainerFn;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stochastic Weight Averaging (Izmailov et al., 2018): over the last epochs of training, anneals the learning rate to
 * a constant SWA rate and keeps a running average of the weights, which replaces the module's weights when training
 * ends. Lightning's {@code StochasticWeightAveraging}.
 *
 * <p>What happens, with epochs counted from 0 and {@code start} the first SWA epoch:
 *
 * <ul>
 *   <li>From the start of epoch {@code start}, the optimizer's schedule is {@link SwaLR}, which anneals every param
 *       group's learning rate from its value at that moment to {@code swaLrs} over {@code annealingEpochs} epochs
 *       ({@code "cos"} or {@code "linear"}) and then holds it. It replaces the module's scheduler, if any.
 *   <li>At the end of every epoch from {@code start} to the last one ({@code maxEpochs - 1}), the weights join the
 *       average: {@code avg += (w - avg) / (n + 1)}, in place, on the device, with no copy to the host.
 *   <li>When training ends (also when it stops early, once at least one epoch was averaged), the averaged weights are
 *       copied into the module's parameters in place.
 * </ul>
 *
 * <p><b>Better than Lightning:</b> Lightning adds the weights at the start of each SWA epoch, so its average holds the
 * weights from before the first SWA epoch and misses the last epoch's training. Here the average is exactly the mean
 * of the end-of-epoch weights of the SWA epochs.
 *
 * <p>{@code swaEpochStart} is Lightning's: a whole number {@code k >= 1} means the {@code k}-th epoch (so {@code
 * start = k - 1}), a fraction {@code f} in {@code [0, 1]} means {@code start = max(int(f * maxEpochs) - 1, 0)}. The
 * default is 0.8.
 *
 * <p>BatchNorm: the running statistics (running mean and variance) are not averaged and are not recomputed for the
 * averaged weights; Lightning recomputes them in an extra epoch. A module with BatchNorm layers gets a warning at fit
 * start; run the training data through the module in training mode after fit (without optimizer steps) to refresh
 * them.
 *
 * <p>Needs one optimizer and at most one scheduler (a warning says so when no epoch falls in the SWA range). The
 * average, the count and the schedule are saved in checkpoints (the averaged tensors in the checkpoint's {@code
 * swa.safetensors}, by PyTorch parameter name), so a resumed fit continues the same average, also from a checkpoint
 * written inside an epoch or on validation end.
 */
public class StochasticWeightAveraging implements Callback {

    /** The checkpoint's tensor file that holds the averaged weights. */
    public static final String TENSOR_FILE = "swa";

    /**
     * How a new snapshot of a weight joins the average; the default is the equal-weighted running mean.
     */
    @FunctionalInterface
    public interface AveragingFunction {
        /**
         * Computes the new average of one weight.
         *
         * @param averaged the current average (must not be modified)
         * @param current the weight's current value (must not be modified)
         * @param numAveraged how many snapshots the average holds so far, {@code >= 1}
         * @return a new array with the new average; it is copied into the average and closed
         */
        NDArray average(NDArray averaged, NDArray current, long numAveraged);
    }

    private static final Logger LOG = LoggerFactory.getLogger(StochasticWeightAveraging.class);
    private static final NDIndex ALL = new NDIndex("...");

    private final List<Double> swaLrs;
    private final Integer swaEpochStartIndex;
    private final Double swaEpochStartFraction;
    private final int annealingEpochs;
    private final String annealingStrategy;
    private final AveragingFunction avgFn;
    private final Device device;

    private int swaStart;
    private int swaEnd;
    private long nAveraged;
    private int latestUpdateEpoch = -1;
    private Map<String, Object> schedulerState;
    private SwaLR scheduler;
    private NDManager averageManager;
    private final Map<String, NDArray> averages = new LinkedHashMap<>();

    /**
     * SWA with one SWA learning rate for every param group and Lightning's other defaults.
     *
     * @param swaLrs the SWA learning rate, finite and {@code > 0}
     */
    public StochasticWeightAveraging(double swaLrs) {
        this(builder(swaLrs));
    }

    /**
     * Creates SWA from a builder.
     *
     * @param b the builder
     */
    protected StochasticWeightAveraging(Builder b) {
        if (b.swaLrs == null || b.swaLrs.isEmpty()) {
            throw new MisconfigurationException("StochasticWeightAveraging swaLrs must be a positive number or one"
                    + " positive number per param group, got " + b.swaLrs);
        }
        for (Double lr : b.swaLrs) {
            if (lr == null || !(lr > 0) || Double.isInfinite(lr)) {
                throw new MisconfigurationException("StochasticWeightAveraging swaLrs must be finite and > 0, got "
                        + b.swaLrs + "; pass e.g. builder(1e-2)");
            }
        }
        if (b.annealingEpochs < 0) {
            throw new MisconfigurationException("StochasticWeightAveraging annealingEpochs must be >= 0, got "
                    + b.annealingEpochs);
        }
        try {
            SwaLR.isCosine(b.annealingStrategy);
        } catch (IllegalArgumentException e) {
            throw new MisconfigurationException("StochasticWeightAveraging " + e.getMessage());
        }
        this.swaLrs = List.copyOf(b.swaLrs);
        this.swaEpochStartIndex = b.swaEpochStartIndex;
        this.swaEpochStartFraction = b.swaEpochStartFraction;
        this.annealingEpochs = b.annealingEpochs;
        this.annealingStrategy = b.annealingStrategy;
        this.avgFn = b.avgFn;
        this.device = b.device;
    }

    /**
     * Starts a builder with one SWA learning rate for every param group.
     *
     * @param swaLrs the SWA learning rate, finite and {@code > 0}
     * @return the builder
     */
    public static Builder builder(double swaLrs) {
        return new Builder(List.of(swaLrs));
    }

    /**
     * Starts a builder with one SWA learning rate per param group of the optimizer, in group order.
     *
     * @param swaLrs the SWA learning rates, each finite and {@code > 0}
     * @return the builder
     */
    public static Builder builder(List<Double> swaLrs) {
        return new Builder(swaLrs == null ? null : new ArrayList<>(swaLrs));
    }

    @Override
    public String stateKey() {
        return "StochasticWeightAveraging";
    }

    @Override
    public void setup(Trainer trainer, LightningModule module, TrainerFn stage) {
        if (stage != TrainerFn.FIT) {
            return;
        }
        // a new fit starts a new average; a resumed one gets its state back after this hook
        releaseAverages();
        nAveraged = 0;
        latestUpdateEpoch = -1;
        schedulerState = null;
        scheduler = null;
    }

    @Override
    public void onFitStart(Trainer trainer, LightningModule module) {
        if (trainer.optimizers().size() != 1) {
            throw new MisconfigurationException("StochasticWeightAveraging works with one optimizer, but"
                    + " configureOptimizers returned " + trainer.optimizers().size() + ".");
        }
        if (trainer.lrSchedulerConfigs().size() > 1) {
            throw new MisconfigurationException("StochasticWeightAveraging works with at most one learning-rate"
                    + " scheduler, but configureOptimizers returned " + trainer.lrSchedulerConfigs().size() + ".");
        }
        int maxEpochs = trainer.maxEpochs();
        int startEpoch;
        if (swaEpochStartFraction != null) {
            if (maxEpochs == -1) {
                throw new MisconfigurationException("StochasticWeightAveraging swaEpochStart="
                        + swaEpochStartFraction + " is a fraction of maxEpochs, but maxEpochs is unlimited (-1);"
                        + " give swaEpochStart as a whole epoch number, or set maxEpochs.");
            }
            startEpoch = (int) (maxEpochs * swaEpochStartFraction);
        } else {
            startEpoch = swaEpochStartIndex;
        }
        swaStart = Math.max(startEpoch - 1, 0);
        swaEnd = maxEpochs == -1 ? Integer.MAX_VALUE : maxEpochs - 1;
        if (swaStart > swaEnd) {
            LOG.warn("StochasticWeightAveraging starts at epoch {} (0-based), but training ends after epoch {}:"
                    + " nothing will be averaged. Lower swaEpochStart or raise maxEpochs.", swaStart, swaEnd);
        }
        if (hasBatchNorm(module)) {
            LOG.warn("{} has BatchNorm layers: StochasticWeightAveraging averages their weights but not their"
                    + " running statistics, which stay those of the last trained weights. Run the training data"
                    + " through the module in training mode after fit to recompute them.",
                    module.getClass().getSimpleName());
        }
        if (schedulerState != null) {
            // resumed within the SWA phase: the schedule is back before the checkpoint restores its state
            installScheduler(trainer);
        }
    }

    @Override
    public void onTrainStart(Trainer trainer, LightningModule module) {
        int epoch = trainer.currentEpoch();
        if (trainer.fitLoop().resumesMidEpoch() || epoch == 0) {
            return;
        }
        int finished = epoch - 1;
        if (inRange(finished) && finished > latestUpdateEpoch) {
            // a checkpoint written at the end of that epoch but before this callback's epoch-end hook (for example
            // on validation end): the restored weights are that epoch's final weights
            if (schedulerState == null && nAveraged == 0) {
                LOG.warn("StochasticWeightAveraging resumes after its start epoch {} without SWA state in the"
                        + " checkpoint: the average starts now.", swaStart);
            }
            update(module);
            latestUpdateEpoch = finished;
        }
    }

    @Override
    public void onTrainEpochStart(Trainer trainer, LightningModule module) {
        if (scheduler == null && inRange(trainer.currentEpoch())) {
            installScheduler(trainer);
        }
    }

    @Override
    public void onTrainEpochEnd(Trainer trainer, LightningModule module) {
        int epoch = trainer.currentEpoch();
        if (inRange(epoch) && epoch > latestUpdateEpoch) {
            update(module);
            latestUpdateEpoch = epoch;
        }
    }

    @Override
    public void onTrainEnd(Trainer trainer, LightningModule module) {
        if (nAveraged > 0) {
            transferWeights(module);
        }
    }

    private boolean inRange(int epoch) {
        return swaStart <= epoch && epoch <= swaEnd;
    }

    private void installScheduler(Trainer trainer) {
        Optimizer optimizer = trainer.optimizers().get(0);
        List<ParamGroup> groups = optimizer.paramGroups();
        if (swaLrs.size() != 1 && swaLrs.size() != groups.size()) {
            throw new MisconfigurationException("StochasticWeightAveraging got " + swaLrs.size() + " swaLrs "
                    + swaLrs + ", but the optimizer has " + groups.size() + " param groups; give one per group, or"
                    + " a single one for all.");
        }
        for (int i = 0; i < groups.size(); i++) {
            groups.get(i).set(ParamGroup.INITIAL_LR, swaLrs.get(swaLrs.size() == 1 ? 0 : i));
        }
        SwaLR swa = new SwaLR(optimizer, swaLrs, annealingEpochs, annealingStrategy);
        if (schedulerState != null) {
            swa.loadStateDict(new StateDict(schedulerState, new LinkedHashMap<>()));
        }
        List<SchedulerConfig> configs = trainer.lrSchedulerConfigs();
        if (!configs.isEmpty()) {
            SchedulerConfig previous = configs.get(0);
            if (previous.interval() != SchedulerConfig.Interval.EPOCH || previous.frequency() != 1) {
                LOG.warn("StochasticWeightAveraging steps its schedule every epoch; the module's scheduler ran {}.",
                        previous);
            }
            LOG.info("Swapping scheduler {} for SwaLR", previous.scheduler().getClass().getSimpleName());
        }
        trainer.setLrSchedulerConfigs(List.of(SchedulerConfig.of(swa)));
        scheduler = swa;
    }

    /** The parameters that are averaged, by PyTorch name: all but BatchNorm's running statistics. */
    private static Map<String, Parameter> averagedParameters(LightningModule module) {
        Map<String, Parameter> out = new LinkedHashMap<>();
        for (Map.Entry<String, Parameter> entry : ParameterNames.of(module).entrySet()) {
            Parameter.Type type = entry.getValue().getType();
            if (type != Parameter.Type.RUNNING_MEAN && type != Parameter.Type.RUNNING_VAR) {
                out.put(entry.getKey(), entry.getValue());
            }
        }
        return out;
    }

    private static boolean hasBatchNorm(LightningModule module) {
        for (Block block : ParameterNames.blockPaths(module).keySet()) {
            if (block instanceof BatchNorm) {
                return true;
            }
        }
        return false;
    }

    private NDManager averageManager(LightningModule module) {
        if (averageManager == null || !averageManager.isOpen()) {
            Device target = device != null ? device : module.device();
            averageManager = module.parameterManager().newSubManager(target);
            averageManager.setName("stochastic-weight-averaging");
        }
        return averageManager;
    }

    private NDArray keep(NDArray source, NDManager manager) {
        NDArray copy = source.getDevice().equals(manager.getDevice())
                ? source.duplicate()
                : source.toDevice(manager.getDevice(), true);
        copy.attach(manager);
        // the hooks may run inside a step's scope, which must not close the average
        NDScope.unregister(copy);
        return copy;
    }

    /** Adds the module's current weights to the average, in place and on the device. */
    private void update(LightningModule module) {
        Map<String, Parameter> params = averagedParameters(module);
        List<String> uninitialized = new ArrayList<>();
        params.forEach((name, param) -> {
            if (!param.isInitialized()) {
                uninitialized.add(name);
            }
        });
        if (!uninitialized.isEmpty()) {
            throw new MisconfigurationException("StochasticWeightAveraging cannot average " + uninitialized
                    + ": these layers have not run yet, so they have no weights. Initialize them in the module's"
                    + " constructor (initializeBlock) or start SWA later (swaEpochStart).");
        }
        NDManager manager = averageManager(module);
        boolean gradMode = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        try {
            if (nAveraged == 0) {
                releaseArrays();
                params.forEach((name, param) -> averages.put(name, keep(param.getArray(), manager)));
            } else {
                for (Map.Entry<String, Parameter> entry : params.entrySet()) {
                    NDArray average = averages.get(entry.getKey());
                    NDArray weight = entry.getValue().getArray();
                    NDArray current = weight.toDevice(average.getDevice(), false);
                    try {
                        accumulate(average, current);
                    } finally {
                        if (current != weight) {
                            current.close();
                        }
                    }
                }
            }
            nAveraged++;
        } finally {
            JniUtils.setGradMode(gradMode);
        }
    }

    private void accumulate(NDArray average, NDArray current) {
        if (avgFn == null) {
            try (NDArray delta = current.sub(average)) {
                delta.divi(nAveraged + 1);
                average.addi(delta);
            }
            return;
        }
        try (NDArray result = avgFn.average(average, current, nAveraged)) {
            if (result == null || !result.getShape().equals(average.getShape())) {
                throw new IllegalStateException("StochasticWeightAveraging avgFn must return an array of shape "
                        + average.getShape() + ", got " + (result == null ? null : result.getShape()));
            }
            average.set(ALL, result);
        }
    }

    /** Copies the averaged weights into the module's parameters in place. */
    private void transferWeights(LightningModule module) {
        Map<String, Parameter> params = averagedParameters(module);
        boolean gradMode = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        try {
            for (Map.Entry<String, NDArray> entry : averages.entrySet()) {
                NDArray target = params.get(entry.getKey()).getArray();
                NDArray source = entry.getValue().toDevice(target.getDevice(), false);
                try {
                    target.set(ALL, source);
                } finally {
                    if (source != entry.getValue()) {
                        source.close();
                    }
                }
            }
        } finally {
            JniUtils.setGradMode(gradMode);
        }
    }

    private void releaseArrays() {
        for (NDArray array : averages.values()) {
            array.close();
        }
        averages.clear();
    }

    private void releaseAverages() {
        releaseArrays();
        if (averageManager != null) {
            averageManager.close();
            averageManager = null;
        }
    }

    /** How many epochs' weights the average holds. */
    public long nAveraged() {
        return nAveraged;
    }

    /** The last epoch whose weights joined the average, -1 before the first. */
    public int latestUpdateEpoch() {
        return latestUpdateEpoch;
    }

    /** The first SWA epoch, 0-based; known from fit start. */
    public int swaStart() {
        return swaStart;
    }

    /** The last SWA epoch, 0-based ({@code Integer.MAX_VALUE} without an epoch limit); known from fit start. */
    public int swaEnd() {
        return swaEnd;
    }

    /**
     * The running average, by PyTorch parameter name; the live arrays (copy what must outlive the next update).
     *
     * @return the averaged weights; empty before the first SWA epoch ended
     */
    public Map<String, NDArray> averagedWeights() {
        return Collections.unmodifiableMap(averages);
    }

    @Override
    public void onSaveCheckpoint(Trainer trainer, LightningModule module, Checkpoint checkpoint) {
        if (!averages.isEmpty()) {
            checkpoint.tensors(TENSOR_FILE).putAll(averages);
        }
    }

    @Override
    public void onLoadCheckpoint(Trainer trainer, LightningModule module, Checkpoint checkpoint) {
        releaseAverages();
        Map<String, NDArray> saved = checkpoint.tensorFiles().get(TENSOR_FILE);
        if (saved == null || saved.isEmpty()) {
            return;
        }
        Map<String, Parameter> params = averagedParameters(module);
        TreeSet<String> missing = new TreeSet<>(params.keySet());
        missing.removeAll(saved.keySet());
        TreeSet<String> extra = new TreeSet<>(saved.keySet());
        extra.removeAll(params.keySet());
        if (!missing.isEmpty() || !extra.isEmpty()) {
            throw new CheckpointException(checkpoint.source(), TENSOR_FILE + ".safetensors", "the averaged weights"
                    + " do not match " + module.getClass().getSimpleName()
                    + (missing.isEmpty() ? "" : "; missing: " + missing)
                    + (extra.isEmpty() ? "" : "; unexpected: " + extra));
        }
        for (Map.Entry<String, Parameter> entry : params.entrySet()) {
            NDArray array = saved.get(entry.getKey());
            NDArray weight = entry.getValue().getArray();
            if (!array.getShape().equals(weight.getShape()) || array.getDataType() != weight.getDataType()) {
                throw new CheckpointException(checkpoint.source(), TENSOR_FILE + ".safetensors: " + entry.getKey(),
                        "the average has " + array.getDataType() + " " + array.getShape() + ", the module "
                                + weight.getDataType() + " " + weight.getShape());
            }
        }
        NDManager manager = averageManager(module);
        for (String name : params.keySet()) {
            averages.put(name, keep(saved.get(name), manager));
        }
    }

    @Override
    public Map<String, Object> stateDict() {
        Map<String, Object> state = new LinkedHashMap<>();
        state.put("n_averaged", nAveraged);
        state.put("latest_update_epoch", latestUpdateEpoch);
        state.put("scheduler_state", scheduler == null ? null : scheduler.stateDict().values());
        return state;
    }

    @Override
    @SuppressWarnings("unchecked")
    public void loadStateDict(Map<String, Object> state) {
        Object n = state.get("n_averaged");
        Object latest = state.get("latest_update_epoch");
        Object schedule = state.get("scheduler_state");
        if (!(n instanceof Number) || ((Number) n).longValue() < 0) {
            throw new IllegalArgumentException("n_averaged must be a non-negative integer, found " + n);
        }
        if (!(latest instanceof Number)) {
            throw new IllegalArgumentException("latest_update_epoch must be an integer, found " + latest);
        }
        if (schedule != null && !(schedule instanceof Map)) {
            throw new IllegalArgumentException("scheduler_state must be an object or null, found " + schedule);
        }
        long count = ((Number) n).longValue();
        if (count > 0 && averages.isEmpty()) {
            throw new IllegalArgumentException("n_averaged is " + count + " but the checkpoint holds no "
                    + TENSOR_FILE + ".safetensors with the averaged weights");
        }
        nAveraged = count;
        latestUpdateEpoch = ((Number) latest).intValue();
        schedulerState = (Map<String, Object>) schedule;
    }

    /** Configures {@link StochasticWeightAveraging}; every setter has Lightning's default. */
    public static class Builder {
        private final List<Double> swaLrs;
        private Integer swaEpochStartIndex;
        private Double swaEpochStartFraction = 0.8;
        private int annealingEpochs = 10;
        private String annealingStrategy = "cos";
        private AveragingFunction avgFn;
        private Device device;

        Builder(List<Double> swaLrs) {
            this.swaLrs = swaLrs;
        }

        /**
         * Starts SWA at the {@code epoch}-th epoch, counted from 1 as in Lightning (so 1 is the first epoch).
         *
         * @param epoch {@code >= 1}
         * @return this builder
         */
        public Builder swaEpochStart(int epoch) {
            if (epoch < 1) {
                throw new MisconfigurationException("StochasticWeightAveraging swaEpochStart must be a whole number"
                        + " >= 1 (the first epoch is 1) or a fraction of maxEpochs in [0, 1], got " + epoch);
            }
            swaEpochStartIndex = epoch;
            swaEpochStartFraction = null;
            return this;
        }

        /**
         * Starts SWA at the {@code int(fraction * maxEpochs)}-th epoch (default 0.8).
         *
         * @param fraction in {@code [0, 1]}
         * @return this builder
         */
        public Builder swaEpochStart(double fraction) {
            if (!(fraction >= 0 && fraction <= 1)) {
                throw new MisconfigurationException("StochasticWeightAveraging swaEpochStart must be a fraction of"
                        + " maxEpochs in [0, 1] or a whole number >= 1, got " + fraction);
            }
            swaEpochStartFraction = fraction;
            swaEpochStartIndex = null;
            return this;
        }

        /**
         * Sets how many epochs the learning rate takes to reach {@code swaLrs} (default 10).
         *
         * @param epochs {@code >= 0}; 0 switches to {@code swaLrs} at once
         * @return this builder
         */
        public Builder annealingEpochs(int epochs) {
            annealingEpochs = epochs;
            return this;
        }

        /**
         * Sets the shape of the annealing.
         *
         * @param strategy {@code "cos"} (default) or {@code "linear"}
         * @return this builder
         */
        public Builder annealingStrategy(String strategy) {
            annealingStrategy = strategy;
            return this;
        }

        /**
         * Replaces the equal-weighted running mean, Lightning's {@code avg_fn}.
         *
         * @param fn the averaging function, or null for the running mean
         * @return this builder
         */
        public Builder avgFn(AveragingFunction fn) {
            avgFn = fn;
            return this;
        }

        /**
         * Sets where the average is kept. By default it lives next to the weights, on the module's device, so no
         * update crosses devices (Lightning keeps it on the CPU by default).
         *
         * @param value the device, or null for the module's
         * @return this builder
         */
        public Builder device(Device value) {
            device = value;
            return this;
        }

        /**
         * Builds the callback.
         *
         * @return the callback
         * @throws MisconfigurationException naming a bad setting
         */
        public StochasticWeightAveraging build() {
            return new StochasticWeightAveraging(this);
        }
    }
}
