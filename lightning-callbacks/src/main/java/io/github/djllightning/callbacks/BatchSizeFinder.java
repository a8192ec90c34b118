package io.github.djllightning.callbacks;

import io.github.djllightning.callback.Callback;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.trainer.Trainer;
import io.github.djllightning.tuner.BatchSizeAttribute;
import io.github.djllightning.tuner.BatchSizeOptions;
import io.github.djllightning.tuner.BatchSizeResult;
import io.github.djllightning.tuner.Tuner;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds the largest batch size that fits in memory when fit starts, and trains with it. Lightning's {@code
 * BatchSizeFinder}.
 *
 * <pre>{@code
 * Trainer trainer = Trainer.builder()
 *         .callbacks(BatchSizeFinder.builder().mode("binsearch").memoryBudgetBytes(2L << 30).build())
 *         .build();
 * trainer.fit(model, datamodule);   // datamodule implements HasBatchSize; its trainDataloader() reads the size
 * }</pre>
 *
 * <p>In {@code onFitStart}, before the fit asks for its training loader, it runs {@link
 * Tuner#scaleBatchSize(LightningModule, io.github.djllightning.module.LightningDataModule, BatchSizeOptions)}: trials
 * of {@code stepsPerTrial} optimizer steps at growing batch sizes, each on a new loader from the training loader hook,
 * on a Trainer of its own, undone afterwards (see {@link Tuner}). The size found stays set on the module or data module
 * (see {@link BatchSizeAttribute}), so the fit's loader is built with it. The loader must come from {@code
 * trainDataloader()} of the module or of the fit's data module: a loader passed to {@code fit} cannot change its batch
 * size, and the fit fails with a message saying so. See {@link BatchSizeOptions} for what counts as running out of
 * memory, and for the memory budget the CPU needs.
 *
 * <p>The size found is kept in checkpoints under {@link #stateKey()}: a fit resumed from a checkpoint written after the
 * search sets that size again instead of searching, so the resumed fit reads the same batches as the interrupted one
 * (Lightning searches again and may resume with another batch size). To search at other moments, subclass, override
 * {@link #onFitStart} and call {@link #scaleBatchSize(Trainer, LightningModule)} from another hook that runs before
 * the loader is built.
 */
public class BatchSizeFinder implements Callback {

    private static final Logger LOG = LoggerFactory.getLogger(BatchSizeFinder.class);

    private final BatchSizeOptions options;
    private BatchSizeResult result;
    private Integer restoredSize;
    private boolean resuming;

    /** A finder with Lightning's defaults (power mode from 2, 3 steps per trial) and no memory budget. */
    public BatchSizeFinder() {
        this(BatchSizeOptions.defaults());
    }

    /**
     * Creates a finder.
     *
     * @param options the settings
     */
    public BatchSizeFinder(BatchSizeOptions options) {
        this.options = Objects.requireNonNull(options, "options");
    }

    /**
     * Starts a builder with Lightning's defaults.
     *
     * @return the builder; {@code build()} validates the values and returns the callback
     */
    public static BatchSizeOptions.Builder<BatchSizeFinder> builder() {
        return new BatchSizeOptions.Builder<>(BatchSizeFinder::new);
    }

    /** The settings. */
    public BatchSizeOptions options() {
        return options;
    }

    /**
     * Runs the search now, for the running fit.
     *
     * @param trainer the Trainer running the fit
     * @param module the module
     */
    public void scaleBatchSize(Trainer trainer, LightningModule module) {
        result = new Tuner(trainer).scaleBatchSize(module, trainer.datamodule(), options);
        restoredSize = null;
        resuming = false;
    }

    /** Searches, or, when this fit resumes from a checkpoint written after a search, sets the size found then. */
    @Override
    public void onFitStart(Trainer trainer, LightningModule module) {
        if (resuming) {
            resuming = false;
            BatchSizeAttribute attribute = BatchSizeAttribute.find(module, trainer.datamodule(),
                    options.batchArgName());
            attribute.set(restoredSize);
            LOG.info("The batch-size finder found batch size {} before the checkpoint this fit resumes from; using it"
                    + " again ({}).", restoredSize, attribute.describe());
            return;
        }
        scaleBatchSize(trainer, module);
    }

    /**
     * The batch size to train with (Lightning's {@code optimal_batch_size}): the one found, the one restored from a
     * checkpoint, or {@code initVal} before any search.
     *
     * @return the batch size
     */
    public int optimalBatchSize() {
        if (result != null) {
            return result.batchSize();
        }
        return restoredSize != null ? restoredSize : options.initVal();
    }

    /**
     * What the last search in this process found, with its trials.
     *
     * @return the result, or null before a search (also after a resume, which does not search)
     */
    public BatchSizeResult result() {
        return result;
    }

    /** {@code BatchSizeFinder{...}} with the settings that make a search differ. */
    @Override
    public String stateKey() {
        return String.format(Locale.ROOT, "BatchSizeFinder{'mode': '%s', 'batch_arg_name': '%s'}", options.mode(),
                options.batchArgName());
    }

    /** {@code optimal_batch_size} once a size was found or restored; empty before. */
    @Override
    public Map<String, Object> stateDict() {
        if (result == null && restoredSize == null) {
            return Map.of();
        }
        Map<String, Object> state = new LinkedHashMap<>();
        state.put("optimal_batch_size", optimalBatchSize());
        return state;
    }

    @Override
    public void loadStateDict(Map<String, Object> state) {
        Object size = state.get("optimal_batch_size");
        if (!(size instanceof Number) || ((Number) size).longValue() < 1
                || ((Number) size).longValue() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("'optimal_batch_size' must be a whole number >= 1, found " + size);
        }
        restoredSize = ((Number) size).intValue();
        result = null;
        resuming = true;
    }
}
