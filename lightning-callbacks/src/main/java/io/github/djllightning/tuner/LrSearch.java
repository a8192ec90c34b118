package io.github.djllightning.tuner;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.dataset.Batch;
import io.github.djllightning.callback.Callback;
import io.github.djllightning.module.LightningDataModule;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.optim.Optimizer;
import io.github.djllightning.trainer.MisconfigurationException;
import io.github.djllightning.trainer.Trainer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The learning-rate range test: Lightning's {@code _lr_find} on a Trainer of its own (see {@link Search}). */
final class LrSearch {

    private static final Logger LOG = LoggerFactory.getLogger(LrSearch.class);
    /** Lightning's smoothing factor for the loss. */
    static final double BETA = 0.98;

    private LrSearch() {}

    /**
     * Runs the search, undoes its training, and sets the suggested rate when asked to.
     *
     * @param owner the user's Trainer
     * @param module the module
     * @param datamodule the data module whose state is restored afterwards, or null
     * @param fit runs the search's fit on the Trainer it is given, with the search's data
     * @param options the settings
     * @return the result (empty under fastDevRun)
     */
    static LrFinderResult run(
            Trainer owner,
            LightningModule module,
            LightningDataModule datamodule,
            Consumer<Trainer> fit,
            LrFinderOptions options) {
        if (owner.isFastDevRun()) {
            LOG.warn("Skipping the learning-rate finder since fastDevRun is enabled.");
            return new LrFinderResult(options, List.of(), List.of(), false);
        }
        LearningRateAttribute attribute = options.updateAttr()
                ? LearningRateAttribute.find(module, options.attrName())
                : null;
        Recorder recorder = new Recorder(options);
        try (Search search = new Search(owner, module, datamodule, ".lr_find_")) {
            Trainer trainer = search.trainerBuilder(options.numTraining(), options.numTraining())
                    .callbacks(search.guard(), Search.lenientLossCheck(), recorder)
                    .build();
            search.runThenRestore(() -> fit.accept(trainer));
        }
        if (recorder.diverged) {
            LOG.info("The learning-rate finder stopped early after {} steps because the loss diverged.",
                    recorder.lrs.size());
        }
        LrFinderResult result = new LrFinderResult(options, recorder.lrs, recorder.losses, recorder.diverged);
        if (attribute != null) {
            OptionalDouble suggestion = result.suggestion();
            if (suggestion.isPresent()) {
                double lr = suggestion.getAsDouble();
                attribute.set(lr);
                if (Search.runningFitOf(owner, module)) {
                    // the running fit has built its optimizers already: they train with the new rate from now on
                    for (Optimizer optimizer : owner.optimizers()) {
                        optimizer.setLr(lr);
                    }
                }
                LOG.info("Learning rate set to {} ({}).", String.format(Locale.ROOT, "%.6g", lr),
                        attribute.describe());
            }
        }
        return result;
    }

    /**
     * Sets each step's learning rate and records it with the smoothed loss; asks the search to stop when the loss
     * diverges. Lightning's {@code _LRCallback}, with the schedule applied directly to the optimizer.
     */
    private static final class Recorder implements Callback {
        private final LrFinderOptions options;
        private final List<Double> lrs = new ArrayList<>();
        private final List<Double> losses = new ArrayList<>();
        private Double pendingLr;
        private long averaged;
        private double average;
        private double best;
        private boolean diverged;

        Recorder(LrFinderOptions options) {
            this.options = options;
        }

        @Override
        public void onFitStart(Trainer trainer, LightningModule module) {
            int count = trainer.optimizers().size();
            if (count != 1) {
                throw new MisconfigurationException(module.getClass().getSimpleName() + ".configureOptimizers()"
                        + " returned " + count + " optimizers, but the learning-rate finder works with a single"
                        + " optimizer.");
            }
        }

        private static boolean steps(Trainer trainer, int batchIdx) {
            return (batchIdx + 1) % trainer.accumulateGradBatches() == 0;
        }

        @Override
        public void onTrainBatchStart(Trainer trainer, LightningModule module, Batch batch, int batchIdx) {
            pendingLr = steps(trainer, batchIdx) ? options.lrAt(trainer.globalStep()) : null;
        }

        @Override
        public void onBeforeOptimizerStep(Trainer trainer, LightningModule module, Optimizer optimizer) {
            // after the snapshot (the guard runs first), so the snapshot keeps the optimizer's own rate
            optimizer.setLr(options.lrAt(trainer.globalStep()));
        }

        @Override
        public void onTrainBatchEnd(
                Trainer trainer, LightningModule module, Map<String, Object> outputs, Batch batch, int batchIdx) {
            if (pendingLr == null) {
                return;
            }
            lrs.add(pendingLr);
            pendingLr = null;
            Object loss = outputs.get("loss");
            if (loss == null) {
                // a step without a loss keeps lrs and losses the same length; NaN is left out of the suggestion
                losses.add(Double.NaN);
                return;
            }
            double current = value(loss);
            averaged++;
            average = BETA * average + (1 - BETA) * current;
            // bias-corrected by the number of losses averaged; Lightning divides by 1 - BETA^(step + 1) with the step
            // already counted, which halves the first value and makes the curve climb over its first ~30 points
            double smoothed = average / (1 - Math.pow(BETA, averaged));
            Double threshold = options.earlyStopThreshold();
            if (threshold != null && averaged > 1 && (smoothed > threshold * best || !Double.isFinite(smoothed))) {
                diverged = true;
                trainer.requestStop(String.format(Locale.ROOT, "the learning-rate finder's smoothed loss %.4g passed"
                        + " %s times the best %.4g", smoothed, threshold, best));
            }
            if (averaged == 1 || smoothed < best) {
                best = smoothed;
            }
            losses.add(smoothed);
        }

        private static double value(Object loss) {
            if (loss instanceof Number) {
                return ((Number) loss).doubleValue();
            }
            NDArray array = (NDArray) loss;
            return array.getDataType() == DataType.FLOAT64
                    ? array.toDoubleArray()[0]
                    : array.toType(DataType.FLOAT32, false).toFloatArray()[0];
        }
    }
}
