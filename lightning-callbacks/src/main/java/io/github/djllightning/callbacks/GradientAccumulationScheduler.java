package io.github.djllightning.callbacks;

import io.github.djllightning.callback.Callback;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.optim.Optimizer;
import io.github.djllightning.trainer.LightningOptimizer;
import io.github.djllightning.trainer.MisconfigurationException;
import io.github.djllightning.trainer.Trainer;
import io.github.djllightning.trainer.TrainerFn;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Changes the number of batches whose gradients are summed per optimizer step as training progresses. Lightning's
 * {@code GradientAccumulationScheduler}.
 *
 * <p>The schedule maps an epoch (counted from 0) to the accumulation factor that holds from that epoch on: {@code
 * Map.of(4, 2)} steps the optimizer after every batch in epochs 0 to 3 and after every second batch from epoch 4.
 * Epoch 0 gets factor 1 when the schedule does not name it. The factor is set at the start of every epoch (and when a
 * resumed fit continues inside an epoch). The last batch of an epoch always steps, so an epoch of 10 batches with
 * factor 4 takes 3 optimizer steps.
 *
 * <p>It cannot be combined with the Trainer's own {@code accumulateGradBatches} (other than 1), nor with manual
 * optimization, where the module steps the optimizers itself.
 */
public class GradientAccumulationScheduler implements Callback {

    private static final Logger LOG = LoggerFactory.getLogger(GradientAccumulationScheduler.class);

    private final NavigableMap<Integer, Integer> scheduling;

    /**
     * Creates the scheduler.
     *
     * @param scheduling epoch (from 0) to accumulation factor; not empty, epochs {@code >= 0}, factors {@code >= 1}
     * @throws MisconfigurationException naming the bad epochs or factors
     */
    public GradientAccumulationScheduler(Map<Integer, Integer> scheduling) {
        if (scheduling == null || scheduling.isEmpty()) {
            throw new MisconfigurationException("GradientAccumulationScheduler needs a schedule of epoch to"
                    + " accumulation factor, e.g. Map.of(0, 1, 4, 2); got " + scheduling);
        }
        if (scheduling.keySet().stream().anyMatch(epoch -> epoch == null || epoch < 0)) {
            throw new MisconfigurationException("GradientAccumulationScheduler epochs must be >= 0 (the first epoch"
                    + " is 0), got " + new ArrayList<>(scheduling.keySet()));
        }
        if (scheduling.values().stream().anyMatch(factor -> factor == null || factor < 1)) {
            throw new MisconfigurationException("GradientAccumulationScheduler accumulation factors must be >= 1"
                    + " (1 steps after every batch), got " + new ArrayList<>(scheduling.values()));
        }
        TreeMap<Integer, Integer> sorted = new TreeMap<>(scheduling);
        sorted.putIfAbsent(0, 1);
        this.scheduling = Collections.unmodifiableNavigableMap(sorted);
    }

    /**
     * The schedule, with epoch 0 filled in.
     *
     * @return epoch to accumulation factor, sorted by epoch; unmodifiable
     */
    public NavigableMap<Integer, Integer> scheduling() {
        return scheduling;
    }

    /**
     * The accumulation factor of an epoch.
     *
     * @param epoch the epoch, from 0
     * @return the factor of the latest scheduled epoch at or before it
     */
    public int accumulateGradBatches(int epoch) {
        Map.Entry<Integer, Integer> entry = scheduling.floorEntry(epoch);
        return entry == null ? 1 : entry.getValue();
    }

    private boolean accumulates() {
        return scheduling.values().stream().anyMatch(factor -> factor > 1);
    }

    @Override
    public void setup(Trainer trainer, LightningModule module, TrainerFn stage) {
        if (stage != TrainerFn.FIT) {
            return;
        }
        if (!module.isAutomaticOptimization()) {
            throw new MisconfigurationException("GradientAccumulationScheduler schedules the Trainer's gradient"
                    + " accumulation, which manual optimization does not use: remove the callback, or switch "
                    + module.getClass().getSimpleName() + " to automatic optimization.");
        }
        int configured = trainer.config().optimization().accumulateGradBatches();
        if (configured != 1) {
            throw new MisconfigurationException("The Trainer has accumulateGradBatches=" + configured + " and a"
                    + " GradientAccumulationScheduler: use one of them. Put the factor into the schedule (e.g."
                    + " Map.of(0, " + configured + ")) or remove the callback.");
        }
        if (accumulates() && (overrides(module, "optimizerStep", int.class, int.class, LightningOptimizer.class,
                Runnable.class) || overrides(module, "optimizerZeroGrad", int.class, int.class, Optimizer.class))) {
            LOG.warn("{} overrides optimizerStep or optimizerZeroGrad: with gradient accumulation they run once per"
                    + " optimizer step, not once per batch.", module.getClass().getSimpleName());
        }
    }

    private static boolean overrides(LightningModule module, String name, Class<?>... parameterTypes) {
        try {
            return module.getClass().getMethod(name, parameterTypes).getDeclaringClass() != LightningModule.class;
        } catch (NoSuchMethodException e) {
            return false;
        }
    }

    @Override
    public void onTrainStart(Trainer trainer, LightningModule module) {
        // a fit resumed inside an epoch does not start that epoch again
        trainer.setAccumulateGradBatches(accumulateGradBatches(trainer.currentEpoch()));
    }

    @Override
    public void onTrainEpochStart(Trainer trainer, LightningModule module) {
        trainer.setAccumulateGradBatches(accumulateGradBatches(trainer.currentEpoch()));
    }

    @Override
    public String toString() {
        return "GradientAccumulationScheduler" + scheduling;
    }
}
