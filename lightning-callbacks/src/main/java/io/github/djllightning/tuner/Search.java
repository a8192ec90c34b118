package io.github.djllightning.tuner;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.github.djllightning.callback.Callback;
import io.github.djllightning.checkpoint.Checkpoint;
import io.github.djllightning.checkpoint.CheckpointReader;
import io.github.djllightning.checkpoint.Checkpoints;
import io.github.djllightning.checkpoint.StateDict;
import io.github.djllightning.module.LightningDataModule;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.optim.LrScheduler;
import io.github.djllightning.optim.Optimizer;
import io.github.djllightning.optim.SchedulerConfig;
import io.github.djllightning.trainer.BatchLimit;
import io.github.djllightning.trainer.Trainer;
import io.github.djllightning.trainer.TrainerConfig;
import io.github.djllightning.trainer.TrainerStatus;
import io.github.djllightning.trainer.TrainerFn;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The short fits a tuner runs, and their undoing. Each fit runs on a Trainer of its own, configured from the user's
 * Trainer but with nothing that writes or shows anything, so the user's Trainer (its loops, callbacks, loggers,
 * optimizers) is never touched. What the fits do change is the module: before the first optimizer step the search
 * saves a checkpoint (in a hidden folder under {@code defaultRootDir}, deleted afterwards), and {@link #restore()}
 * puts back from it the weights, the module's own checkpoint entries ({@code onLoadCheckpoint}), the data module's
 * state and the state of every optimizer and scheduler the fits used (which matters when {@code configureOptimizers}
 * hands out the same optimizer each time).
 */
final class Search implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Search.class);

    private final Trainer owner;
    private final LightningModule module;
    private final LightningDataModule datamodule;
    private final Path folder;
    private final Path snapshot;
    private final Trainer previousTrainer;
    private final boolean wasTraining;
    private final List<List<Optimizer>> optimizersPerFit = new ArrayList<>();
    private final List<List<LrScheduler>> schedulersPerFit = new ArrayList<>();
    private boolean snapshotTaken;

    /**
     * Prepares a search.
     *
     * @param owner the user's Trainer, whose configuration the fits follow
     * @param module the module to tune
     * @param datamodule the data module whose state is restored, or null
     * @param prefix the hidden folder's name before its random part, e.g. {@code .lr_find_}
     */
    Search(Trainer owner, LightningModule module, LightningDataModule datamodule, String prefix) {
        this.owner = owner;
        this.module = module;
        this.datamodule = datamodule;
        this.folder = owner.defaultRootDir().resolve(prefix + UUID.randomUUID());
        this.snapshot = folder.resolve("initial.ckpt");
        this.previousTrainer = module.hasTrainer() ? module.getTrainer() : null;
        this.wasTraining = module.isTraining();
        List<Callback> own = module.configureCallbacks();
        if (own != null && !own.isEmpty()) {
            LOG.warn("{} returns callbacks from configureCallbacks ({}); they run in the tuner's search too.",
                    module.getClass().getSimpleName(), own);
        }
        try {
            Files.createDirectories(folder);
        } catch (IOException e) {
            throw new UncheckedIOException("Could not create the tuner's folder " + folder + ": " + e, e);
        }
    }

    /** Whether the Trainer runs a fit of this module now, so a tuner was called from one of the fit's hooks. */
    static boolean runningFitOf(Trainer trainer, LightningModule module) {
        return trainer.status() == TrainerStatus.RUNNING && trainer.fn() == TrainerFn.FIT
                && trainer.lightningModule() == module;
    }

    /**
     * A Trainer for one fit of the search: the user's hardware, seed, gradient accumulation and clipping, training
     * batch limits and (when it validates) validation schedule; no logger, checkpointing, progress bar, model summary,
     * sanity check, time or epoch limit; the given step limit. The first callback must be {@link #guard()}.
     *
     * @param maxSteps the optimizer steps of the fit
     * @param valBatches the validation batches per validation run (0: none), unless the user switched validation off
     * @return the builder, to add callbacks to
     */
    TrainerConfig.Builder<Trainer> trainerBuilder(long maxSteps, long valBatches) {
        TrainerConfig config = owner.config();
        TrainerConfig.Builder<Trainer> builder = Trainer.builder()
                .defaultRootDir(folder)
                .logger(false)
                .enableCheckpointing(false)
                .enableProgressBar(false)
                .enableModelSummary(false)
                .numSanityValSteps(0)
                .maxSteps(maxSteps)
                .accumulateGradBatches(owner.accumulateGradBatches())
                .accelerator(config.hardware().accelerator())
                .devices(config.hardware().devices())
                .precision(config.hardware().precision())
                .deterministic(config.hardware().deterministic());
        if (config.hardware().numThreads() != null) {
            builder.numThreads(config.hardware().numThreads());
        }
        if (config.hardware().seed() != null) {
            builder.seed(config.hardware().seed());
        }
        if (config.optimization().gradientClipVal() != null) {
            builder.gradientClipVal(config.optimization().gradientClipVal())
                    .gradientClipAlgorithm(config.optimization().gradientClipAlgorithm());
        }
        BatchLimit train = config.batches().limitTrain();
        if (train.isFraction()) {
            builder.limitTrainBatches(train.share());
        } else {
            builder.limitTrainBatches(Math.toIntExact(train.count()));
        }
        BatchLimit overfit = config.batches().overfitBatches();
        if (!overfit.isZero()) {
            if (overfit.isFraction()) {
                builder.overfitBatches(overfit.share());
            } else {
                builder.overfitBatches(Math.toIntExact(overfit.count()));
            }
        }
        boolean validate = valBatches > 0 && !config.batches().limitVal().isZero();
        if (validate) {
            BatchLimit interval = config.validation().valCheckInterval();
            if (interval.isFraction()) {
                builder.valCheckInterval(interval.share());
            } else {
                builder.valCheckInterval(Math.toIntExact(interval.count()));
            }
            builder.checkValEveryNEpoch(config.validation().checkValEveryNEpoch())
                    .limitValBatches(Math.toIntExact(Math.min(valBatches, Integer.MAX_VALUE)));
        } else {
            builder.limitValBatches(0);
        }
        return builder;
    }

    /**
     * The non-finite-loss check of a search: it only warns, since a search may diverge on purpose (the
     * learning-rate sweep does) and ends by itself when it does.
     *
     * @return the callback, to add after {@link #guard()}
     */
    static Callback lenientLossCheck() {
        return new io.github.djllightning.callback.NonFiniteLossGuard(
                io.github.djllightning.callback.NonFiniteLossGuard.Action.WARN);
    }

    /**
     * The callback every fit of the search carries first: it notes the fit's optimizers and schedulers, and saves
     * the snapshot just before the first backward pass or optimizer step of the search (so the layers exist, and
     * nothing has changed them yet).
     *
     * @return the callback
     */
    Callback guard() {
        return new Callback() {
            @Override
            public void onFitStart(Trainer trainer, LightningModule fitted) {
                optimizersPerFit.add(List.copyOf(trainer.optimizers()));
                List<LrScheduler> schedulers = new ArrayList<>();
                for (SchedulerConfig config : trainer.lrSchedulerConfigs()) {
                    schedulers.add(config.scheduler());
                }
                schedulersPerFit.add(schedulers);
            }

            @Override
            public void onBeforeBackward(Trainer trainer, LightningModule fitted, NDArray loss) {
                takeSnapshot(trainer);
            }

            @Override
            public void onBeforeOptimizerStep(Trainer trainer, LightningModule fitted, Optimizer optimizer) {
                takeSnapshot(trainer);
            }
        };
    }

    /**
     * Saves the snapshot unless it exists; called from the first backward pass or optimizer step of the search.
     *
     * @param trainer the search's Trainer
     */
    void takeSnapshot(Trainer trainer) {
        if (!snapshotTaken) {
            trainer.saveCheckpoint(snapshot);
            snapshotTaken = true;
        }
    }

    /**
     * Runs the search's fits, then {@link #restore()}s, also when a fit fails (the failure is rethrown, with a failure
     * of the restore attached).
     *
     * @param fits the fits
     */
    void runThenRestore(Runnable fits) {
        try {
            fits.run();
        } catch (RuntimeException | Error e) {
            try {
                restore();
            } catch (RuntimeException secondary) {
                e.addSuppressed(secondary);
            }
            throw e;
        }
        restore();
    }

    /**
     * Undoes what the fits did to the module, from the snapshot: weights in place, the module's {@code
     * onLoadCheckpoint}, the data module's state, and the state of every optimizer and scheduler the fits used.
     * Does nothing when no step ran.
     */
    void restore() {
        if (!snapshotTaken) {
            return;
        }
        try (NDManager scratch = module.parameterManager().newSubManager()) {
            scratch.setName("tuner-restore");
            Checkpoint checkpoint = CheckpointReader.read(snapshot, scratch);
            Checkpoints.loadWeights(module, checkpoint);
            module.onLoadCheckpoint(checkpoint);
            Object dataState = checkpoint.entries().get("datamodule");
            if (datamodule != null && dataState instanceof Map) {
                datamodule.loadStateDict(cast(dataState));
            }
            restoreOptimizers(checkpoint);
            restoreSchedulers(checkpoint);
        }
    }

    private void restoreOptimizers(Checkpoint checkpoint) {
        List<?> states = (List<?>) checkpoint.entries().getOrDefault("optimizer_states", List.of());
        Map<String, NDArray> tensors = checkpoint.tensors("optimizer_states");
        List<Optimizer> done = new ArrayList<>();
        for (List<Optimizer> optimizers : optimizersPerFit) {
            if (optimizers.size() != states.size()) {
                continue;
            }
            for (int i = 0; i < optimizers.size(); i++) {
                Optimizer optimizer = optimizers.get(i);
                if (done.stream().anyMatch(o -> o == optimizer)) {
                    continue;
                }
                done.add(optimizer);
                String prefix = i + ".";
                Map<String, NDArray> own = new LinkedHashMap<>();
                tensors.forEach((name, array) -> {
                    if (name.startsWith(prefix)) {
                        own.put(name.substring(prefix.length()), array);
                    }
                });
                optimizer.loadStateDict(new StateDict(cast(states.get(i)), own));
            }
        }
    }

    private void restoreSchedulers(Checkpoint checkpoint) {
        List<?> states = (List<?>) checkpoint.entries().getOrDefault("lr_schedulers", List.of());
        List<LrScheduler> done = new ArrayList<>();
        for (List<LrScheduler> schedulers : schedulersPerFit) {
            if (schedulers.size() != states.size()) {
                continue;
            }
            for (int i = 0; i < schedulers.size(); i++) {
                LrScheduler scheduler = schedulers.get(i);
                if (done.stream().anyMatch(s -> s == scheduler)) {
                    continue;
                }
                done.add(scheduler);
                scheduler.loadStateDict(new StateDict(cast(states.get(i)), new LinkedHashMap<>()));
            }
        }
    }

    /** Gives the module back to the Trainer it was attached to, in its mode, and deletes the search's folder. */
    @Override
    public void close() {
        module.attachTrainer(previousTrainer);
        if (wasTraining) {
            module.train();
        } else {
            module.eval();
        }
        try (Stream<Path> files = Files.walk(folder)) {
            for (Path file : (Iterable<Path>) files.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(file);
            }
        } catch (IOException e) {
            LOG.warn("Could not delete the tuner's folder {}: {}", folder, e.toString());
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> cast(Object value) {
        return (Map<String, Object>) value;
    }
}
