package io.github.djllightning.tuner;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.dataset.Batch;
import io.github.djllightning.callback.Callback;
import io.github.djllightning.data.DataLoader;
import io.github.djllightning.module.LightningDataModule;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.trainer.MisconfigurationException;
import io.github.djllightning.trainer.Trainer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The batch-size search: Lightning's {@code _scale_batch_size} in power and binsearch mode, each trial a short fit on
 * a Trainer of its own (see {@link Search}) with a new loader from the training loader hook.
 */
final class BatchSizeSearch {

    private static final Logger LOG = LoggerFactory.getLogger(BatchSizeSearch.class);

    private final Trainer owner;
    private final LightningModule module;
    private final BatchSizeOptions options;
    private final BatchSizeAttribute attribute;
    private final Supplier<DataLoader> loaders;
    private final List<BatchSizeResult.Trial> trials = new ArrayList<>();
    private long datasetLength = -1;
    private Search search;

    private BatchSizeSearch(
            Trainer owner,
            LightningModule module,
            BatchSizeOptions options,
            BatchSizeAttribute attribute,
            Supplier<DataLoader> loaders) {
        this.owner = owner;
        this.module = module;
        this.options = options;
        this.attribute = attribute;
        this.loaders = loaders;
    }

    /**
     * Runs the search, undoes its training, and leaves the found batch size set.
     *
     * @param owner the user's Trainer
     * @param module the module
     * @param datamodule the data module whose {@code trainDataloader()} gives the loader, or null for the module's
     * @param options the settings
     * @return the result
     */
    static BatchSizeResult run(
            Trainer owner, LightningModule module, LightningDataModule datamodule, BatchSizeOptions options) {
        BatchSizeAttribute attribute = BatchSizeAttribute.find(module, datamodule, options.batchArgName());
        if (owner.isFastDevRun()) {
            LOG.warn("Skipping the batch-size finder since fastDevRun is enabled.");
            return new BatchSizeResult(attribute.get(), List.of());
        }
        Supplier<DataLoader> loaders = datamodule != null ? datamodule::trainDataloader : module::trainDataloader;
        BatchSizeSearch run = new BatchSizeSearch(owner, module, options, attribute, loaders);
        int found;
        try (Search search = new Search(owner, module, datamodule, ".scale_batch_size_")) {
            run.search = search;
            int[] result = new int[1];
            search.runThenRestore(() -> result[0] = run.scale());
            found = result[0];
        }
        LOG.info("Finished the batch-size finder; training continues with batch size {} ({}).", found,
                attribute.describe());
        return new BatchSizeResult(found, run.trials);
    }

    private int scale() {
        int size = adjust(options.initVal(), 1, null).size;
        size = BatchSizeOptions.POWER.equals(options.mode()) ? power(size) : binsearch(size);
        if (BatchSizeOptions.BINSEARCH.equals(options.mode()) && options.margin() > 0) {
            int reduced = Math.max(1, (int) (size * (1 - options.margin())));
            if (reduced != size) {
                LOG.info("Applying a margin of {}%, reducing the batch size from {} to {}.",
                        String.format(Locale.ROOT, "%.1f", options.margin() * 100), size, reduced);
                size = reduced;
                attribute.set(size);
            }
        }
        return size;
    }

    /** Doubles until a trial fails, then halves once. */
    private int power(int size) {
        boolean anySuccess = false;
        for (int i = 0; i < options.maxTrials(); i++) {
            if (size >= options.maxVal()) {
                LOG.info("Reached the largest batch size considered, maxVal={}; stopping the search.",
                        options.maxVal());
                break;
            }
            if (trial(size)) {
                if (i + 1 >= options.maxTrials()) {
                    break;
                }
                Adjusted next = adjustBy(2.0, "succeeded");
                size = next.size;
                if (!next.changed) {
                    break;
                }
                anySuccess = true;
            } else {
                size = adjustBy(0.5, "failed").size;
                if (anySuccess) {
                    break;
                }
            }
        }
        return size;
    }

    /** Doubles until a trial fails, then bisects between the last size that worked and the first that failed. */
    private int binsearch(int size) {
        int low = 1;
        Integer high = null;
        int successes = 0;
        while (true) {
            if (size >= options.maxVal()) {
                LOG.info("Reached the largest batch size considered, maxVal={}; stopping the search.",
                        options.maxVal());
                break;
            }
            if (trial(size)) {
                successes++;
                if (successes >= options.maxTrials()) {
                    break;
                }
                low = size;
                Adjusted next;
                if (high != null) {
                    if (high - low <= 1) {
                        break;
                    }
                    next = adjust((high + low) / 2, 1, "succeeded");
                } else {
                    next = adjustBy(2.0, "succeeded");
                }
                size = next.size;
                if (!next.changed) {
                    break;
                }
            } else {
                high = size;
                size = adjust((high + low) / 2, 1, "failed").size;
                if (high - low <= 1) {
                    break;
                }
            }
        }
        return size;
    }

    private record Adjusted(int size, boolean changed) {}

    private Adjusted adjustBy(double factor, String outcome) {
        return adjust(null, factor, outcome);
    }

    /** Lightning's {@code _adjust_batch_size}: sets a new size, unless the current one already covers the data. */
    private Adjusted adjust(Integer value, double factor, String outcome) {
        int current = attribute.get();
        long length = datasetLength();
        if (length >= 0 && current >= length) {
            LOG.info("The batch size {} is greater than or equal to the length of the dataset ({}).", current, length);
            return new Adjusted(current, false);
        }
        long wanted = value != null ? value : (long) (current * factor);
        if (wanted > options.maxVal()) {
            LOG.info("Batch size {} is above maxVal={}; capping it.", wanted, options.maxVal());
            wanted = options.maxVal();
        }
        if (wanted < 1) {
            long budget = options.memoryBudgetBytes() == null ? -1 : options.memoryBudgetBytes();
            throw new MisconfigurationException("The batch-size finder found no batch size that fits: batch size "
                    + current + " already runs out of memory" + (budget > 0 ? " (memoryBudgetBytes=" + budget + ")"
                    : "") + ". Free memory, raise the budget, or make the model smaller.");
        }
        int next = (int) wanted;
        if (outcome != null) {
            LOG.info("Batch size {} {}, trying batch size {}.", current, outcome, next);
        }
        attribute.set(next);
        return new Adjusted(next, next != current);
    }

    private long datasetLength() {
        if (datasetLength < 0) {
            DataLoader loader = loaders.get();
            datasetLength = loader == null ? -1 : loader.datasetSize();
        }
        return datasetLength;
    }

    /**
     * Runs {@code stepsPerTrial} optimizer steps at a batch size.
     *
     * @return true when they ran, false when they ran out of memory
     */
    private boolean trial(int size) {
        DataLoader loader = loaders.get();
        if (loader == null) {
            throw new MisconfigurationException("The batch-size finder needs the training loader from the"
                    + " trainDataloader() of " + module.getClass().getSimpleName() + " or of its LightningDataModule,"
                    + " built with the batch size the finder sets; loaders passed to fit cannot be rebuilt at another"
                    + " batch size.");
        }
        if (loader.datasetSize() >= 0) {
            datasetLength = loader.datasetSize();
        }
        releaseCachedMemory();
        Meter meter = new Meter(options.memoryBudgetBytes());
        Trainer trainer = search.trainerBuilder(options.stepsPerTrial(), 0)
                .limitTrainBatches(1.0)
                .callbacks(search.guard(), Search.lenientLossCheck(), meter)
                .build();
        try {
            trainer.fit(module, loader);
        } catch (RuntimeException e) {
            if (!OutOfMemory.is(e)) {
                throw e;
            }
            LOG.info("Batch size {} ran out of memory: {}", size, OutOfMemory.describe(e));
            releaseCachedMemory();
            trials.add(new BatchSizeResult.Trial(size, false, meter.peak));
            return false;
        }
        trials.add(new BatchSizeResult.Trial(size, true, meter.peak));
        return true;
    }

    /**
     * Gives the blocks the GPU allocator keeps cached back to the device, as Lightning does between trials, so a trial
     * after a failed one starts with the device's memory free.
     */
    private void releaseCachedMemory() {
        if (module.device().isGpu()) {
            JniUtils.emptyCudaCache();
        }
    }

    /** Counts each training step's tensor bytes and enforces the budget. */
    private static final class Meter implements Callback {
        private final Long budget;
        private long peak = -1;

        Meter(Long budget) {
            this.budget = budget;
        }

        @Override
        public void onTrainBatchEnd(
                Trainer trainer, LightningModule module, Map<String, Object> outputs, Batch batch, int batchIdx) {
            long bytes = stepBytes(module, batch);
            peak = Math.max(peak, bytes);
            if (budget != null && bytes > budget) {
                throw new OutOfMemory.BudgetExceeded(bytes, budget);
            }
        }
    }

    /** The bytes of the arrays alive in a training step's scope, other than the module's parameters. */
    static long stepBytes(LightningModule module, Batch batch) {
        Set<String> parameters = new HashSet<>();
        for (Parameter parameter : module.parameters()) {
            if (parameter.isInitialized()) {
                parameters.add(parameter.getArray().getUid());
            }
        }
        long bytes = 0;
        for (NDArray array : batch.getManager().getManagedArrays()) {
            if (!array.isReleased() && !parameters.contains(array.getUid())) {
                bytes += array.getShape().size() * array.getDataType().getNumOfBytes();
            }
        }
        return bytes;
    }
}
