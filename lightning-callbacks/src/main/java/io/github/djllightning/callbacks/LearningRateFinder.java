package io.github.djllightning.callbacks;

import io.github.djllightning.callback.Callback;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.trainer.Trainer;
import io.github.djllightning.tuner.LrFinderOptions;
import io.github.djllightning.tuner.LrFinderResult;
import io.github.djllightning.tuner.Tuner;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the learning-rate range test when fit starts, and trains with the suggested rate. Lightning's {@code
 * LearningRateFinder}.
 *
 * <pre>{@code
 * Trainer trainer = Trainer.builder().callbacks(new LearningRateFinder()).build();
 * trainer.fit(model, trainLoader);   // searches on trainLoader first, then trains with the suggestion
 * }</pre>
 *
 * <p>In {@code onFitStart} it runs {@link Tuner#lrFind(LightningModule, LrFinderOptions)} on the fit's training
 * loader: up to {@code numTraining} optimizer steps on a Trainer of its own, undone afterwards (weights, optimizer
 * and scheduler state, the module's checkpoint entries; see {@link Tuner} for the details and for what the search's
 * own fit runs of the module's hooks). With {@code updateAttr} (the default) the suggestion is set on the module
 * (see {@code LearningRateAttribute}) and on the fit's optimizer, so the fit trains with it. Schedulers built in
 * {@code configureOptimizers} keep the rates they were built with; to have them follow the suggestion, run {@link
 * Tuner#lrFind} before fit instead. Callbacks run in the order given: put this one first so the others see the
 * fit after the search.
 *
 * <p>The result is kept in checkpoints under {@link #stateKey()}: a fit resumed from a checkpoint written after the
 * search does not search again (the restored optimizer state holds the rate), which Lightning does. To search at other
 * moments, subclass, override {@link #onFitStart} to do nothing and call {@link #lrFind(Trainer, LightningModule)}
 * from another hook, e.g. at chosen epochs while fine-tuning.
 */
public class LearningRateFinder implements Callback {

    private static final Logger LOG = LoggerFactory.getLogger(LearningRateFinder.class);

    private final LrFinderOptions options;
    private LrFinderResult result;
    private boolean restored;

    /** A finder with Lightning's defaults: 100 steps from 1e-8 to 1, exponential, stopping at 4 times the best loss. */
    public LearningRateFinder() {
        this(LrFinderOptions.defaults());
    }

    /**
     * Creates a finder.
     *
     * @param options the settings
     */
    public LearningRateFinder(LrFinderOptions options) {
        this.options = Objects.requireNonNull(options, "options");
    }

    /**
     * Starts a builder with Lightning's defaults.
     *
     * @return the builder; {@code build()} validates the values and returns the callback
     */
    public static LrFinderOptions.Builder<LearningRateFinder> builder() {
        return new LrFinderOptions.Builder<>(LearningRateFinder::new);
    }

    /** The settings. */
    public LrFinderOptions options() {
        return options;
    }

    /**
     * Runs the search now, on the running fit's training loader.
     *
     * @param trainer the Trainer running the fit
     * @param module the module
     */
    public void lrFind(Trainer trainer, LightningModule module) {
        result = new Tuner(trainer).lrFind(module, options);
    }

    /** Searches, unless this fit resumes from a checkpoint written after a search. */
    @Override
    public void onFitStart(Trainer trainer, LightningModule module) {
        if (restored) {
            restored = false;
            LOG.info("The learning-rate finder searched before the checkpoint this fit resumes from; not searching"
                    + " again.");
            return;
        }
        lrFind(trainer, module);
    }

    /**
     * What the last search found (Lightning's {@code optimal_lr}), also after a resume.
     *
     * @return the result, or null before the first search
     */
    public LrFinderResult result() {
        return result;
    }

    /** {@code LearningRateFinder{...}} with the settings that make a search differ. */
    @Override
    public String stateKey() {
        return String.format(Locale.ROOT, "LearningRateFinder{'min_lr': %s, 'max_lr': %s, 'num_training_steps': %d,"
                + " 'mode': '%s'}", options.minLr(), options.maxLr(), options.numTraining(), options.mode());
    }

    /** The last result ({@code lrs}, {@code losses}, {@code diverged}); empty before the first search. */
    @Override
    public Map<String, Object> stateDict() {
        return result == null ? Map.of() : result.stateDict();
    }

    @Override
    public void loadStateDict(Map<String, Object> state) {
        result = LrFinderResult.fromStateDict(options, state);
        restored = true;
    }
}
