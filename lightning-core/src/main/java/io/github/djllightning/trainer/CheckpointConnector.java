package io.github.djllightning.trainer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.github.djllightning.callback.Callback;
import io.github.djllightning.callback.ModelCheckpoint;
import io.github.djllightning.checkpoint.Checkpoint;
import io.github.djllightning.checkpoint.CheckpointException;
import io.github.djllightning.checkpoint.CheckpointReader;
import io.github.djllightning.checkpoint.Checkpoints;
import io.github.djllightning.checkpoint.StateDict;
import io.github.djllightning.loop.Hooks;
import io.github.djllightning.module.LightningDataModule;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.optim.Optimizer;
import io.github.djllightning.optim.SchedulerConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.FileTime;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.slf4j.LoggerFactory;

/**
 * Restores a run from a checkpoint, in Lightning's order: the module's {@code onLoadCheckpoint}, its weights (in
 * place), the data module's state, and for fit the callbacks' states; then, once the optimizers exist, the loops,
 * optimizers and schedulers. Every failure is a {@link CheckpointException} naming the file and the field.
 */
final class CheckpointConnector {

    private static final org.slf4j.Logger LOG = LoggerFactory.getLogger(CheckpointConnector.class);

    private CheckpointConnector() {}

    /**
     * Works out the checkpoint file: a path, {@code "last"} (the newest {@code last*.ckpt} of the checkpoint
     * callbacks' folders) or {@code "best"} (the best checkpoint of the checkpoint callback).
     *
     * @return the file, or null when {@code "last"} finds none (a warning says so; training starts fresh)
     */
    static Path resolve(String ckptPath, List<Callback> callbacks) {
        if ("last".equals(ckptPath)) {
            Path newest = null;
            FileTime newestTime = null;
            for (Callback callback : callbacks) {
                if (!(callback instanceof ModelCheckpoint) || ((ModelCheckpoint) callback).dirpath() == null) {
                    continue;
                }
                Path dir = ((ModelCheckpoint) callback).dirpath();
                if (!Files.isDirectory(dir)) {
                    continue;
                }
                try (Stream<Path> files = Files.list(dir)) {
                    for (Path file : (Iterable<Path>) files::iterator) {
                        String name = file.getFileName().toString();
                        if (name.startsWith(ModelCheckpoint.NAME_LAST) && name.endsWith(ModelCheckpoint.FILE_EXTENSION)
                                && Files.isRegularFile(file)) {
                            FileTime time = Files.getLastModifiedTime(file);
                            if (newestTime == null || time.compareTo(newestTime) > 0) {
                                newest = file;
                                newestTime = time;
                            }
                        }
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException("Could not list the checkpoints in " + dir + ": " + e, e);
                }
            }
            if (newest == null) {
                LOG.warn("ckptPath=\"last\" is set, but there is no last checkpoint in the checkpoint folders of this"
                        + " Trainer; training starts from scratch.");
            }
            return newest;
        }
        if ("best".equals(ckptPath)) {
            for (Callback callback : callbacks) {
                if (callback instanceof ModelCheckpoint && !((ModelCheckpoint) callback).bestModelPath().isEmpty()) {
                    return Paths.get(((ModelCheckpoint) callback).bestModelPath());
                }
            }
            throw new MisconfigurationException("ckptPath=\"best\" needs a ModelCheckpoint that saved a best"
                    + " checkpoint in this Trainer; none has. Pass a checkpoint file, or \"last\".");
        }
        Path file = Paths.get(ckptPath);
        if (!Files.exists(file)) {
            throw new CheckpointException(file, null, "no such file; ckptPath takes a checkpoint file, \"last\" or"
                    + " \"best\"");
        }
        return file;
    }

    /**
     * Reads the checkpoint, calls the load hooks and restores the weights, the data module, and (fit only) the
     * callbacks.
     */
    static Checkpoint restoreModule(Trainer trainer, Path file, NDManager manager, Hooks hooks, boolean fitting) {
        Checkpoint checkpoint = CheckpointReader.read(file, manager);
        LightningModule module = trainer.lightningModule();
        hooks.module(Hook.ON_LOAD_CHECKPOINT, () -> module.onLoadCheckpoint(checkpoint));
        Checkpoints.loadWeights(module, checkpoint);
        LightningDataModule datamodule = trainer.datamodule();
        Object dataState = checkpoint.entries().get("datamodule");
        if (datamodule != null && dataState instanceof Map) {
            guarded(file, "datamodule", () -> datamodule.loadStateDict(cast(dataState)));
        }
        if (fitting) {
            hooks.callbacks(Hook.ON_LOAD_CHECKPOINT, c -> c.onLoadCheckpoint(trainer, module, checkpoint));
            Map<String, Object> states = cast(checkpoint.entries().getOrDefault("callbacks", Map.of()));
            for (Callback callback : trainer.callbacks()) {
                Object state = states.get(callback.stateKey());
                if (state instanceof Map) {
                    guarded(file, "callbacks." + callback.stateKey(), () -> callback.loadStateDict(cast(state)));
                }
            }
        }
        return checkpoint;
    }

    /** Restores the loops, optimizers and schedulers of a fit; after the optimizers are configured. */
    static void restoreTraining(Trainer trainer, Checkpoint checkpoint) {
        Path file = checkpoint.source();
        Map<String, Object> entries = checkpoint.entries();
        if (!entries.containsKey("optimizer_states")) {
            throw new CheckpointException(file, "optimizer_states", "the checkpoint holds weights only (saved with"
                    + " saveWeightsOnly), so training cannot resume from it. Resume from a full checkpoint, or load"
                    + " the weights with LightningModule.loadFromCheckpoint and start a new fit");
        }
        Map<String, Object> loops = cast(entries.getOrDefault("loops", Map.of()));
        Object fitLoop = loops.get("fit_loop");
        if (!(fitLoop instanceof Map)) {
            throw new CheckpointException(file, "loops.fit_loop", "missing; the checkpoint cannot resume a fit");
        }
        guarded(file, "loops.fit_loop", () -> trainer.fitLoop().loadStateDict(cast(fitLoop)));
        long cursor = trainer.fitLoop().resumeBatch();
        if (cursor > 0) {
            long batches = trainer.fitLoop().resolveTrainingBatches();
            if (batches >= 0 && cursor > batches) {
                throw new CheckpointException(file, "loops.fit_loop.data_position.batch", "the checkpoint was"
                        + " written after batch " + cursor + " of its epoch, but the training data has " + batches
                        + " batches per epoch (after limitTrainBatches); resume with the loader and limits of the run"
                        + " that wrote it");
            }
        }
        int maxEpochs = trainer.config().resolvedMaxEpochs();
        long epochsDone = trainer.fitLoop().restoredEpochs();
        if (maxEpochs != -1 && epochsDone > maxEpochs) {
            throw new MisconfigurationException("You restored a checkpoint with currentEpoch=" + epochsDone
                    + ", but the Trainer has maxEpochs=" + maxEpochs + ". Raise maxEpochs to train further.");
        }
        Object elapsed = entries.get("time_elapsed");
        if (elapsed instanceof Map && ((Map<?, ?>) elapsed).get("train") instanceof Number) {
            double seconds = ((Number) ((Map<?, ?>) elapsed).get("train")).doubleValue();
            if (seconds >= 0 && Double.isFinite(seconds)) {
                trainer.restoreTrainingTime(java.time.Duration.ofNanos((long) (seconds * 1e9)));
            }
        }
        Object precision = entries.get("precision");
        if (precision instanceof Map) {
            Object saved = ((Map<?, ?>) precision).get("precision");
            String now = trainer.config().hardware().precision();
            if (saved != null && !saved.equals(now)) {
                LOG.warn("The checkpoint was trained with precision {} and this Trainer uses {}; the resumed run is"
                        + " not the same run.", saved, now);
            }
        }
        List<Optimizer> optimizers = trainer.optimizers();
        List<?> optimizerStates = (List<?>) entries.get("optimizer_states");
        if (optimizerStates.size() != optimizers.size()) {
            throw new CheckpointException(file, "optimizer_states", "holds " + optimizerStates.size()
                    + " optimizer states, but configureOptimizers returned " + optimizers.size() + " optimizers");
        }
        Map<String, NDArray> optimizerTensors = checkpoint.tensors("optimizer_states");
        for (int i = 0; i < optimizers.size(); i++) {
            String prefix = i + ".";
            Map<String, NDArray> tensors = new LinkedHashMap<>();
            optimizerTensors.forEach((name, array) -> {
                if (name.startsWith(prefix)) {
                    tensors.put(name.substring(prefix.length()), array);
                }
            });
            Object values = optimizerStates.get(i);
            if (!(values instanceof Map)) {
                throw new CheckpointException(file, "optimizer_states[" + i + "]", "must be an object");
            }
            Optimizer optimizer = optimizers.get(i);
            guarded(file, "optimizer_states[" + i + "]",
                    () -> optimizer.loadStateDict(new StateDict(cast(values), tensors)));
        }
        List<SchedulerConfig> schedulers = trainer.lrSchedulerConfigs();
        List<?> schedulerStates = (List<?>) entries.getOrDefault("lr_schedulers", List.of());
        if (schedulerStates.size() != schedulers.size()) {
            throw new CheckpointException(file, "lr_schedulers", "holds " + schedulerStates.size()
                    + " scheduler states, but configureOptimizers returned " + schedulers.size() + " schedulers");
        }
        for (int i = 0; i < schedulers.size(); i++) {
            Object values = schedulerStates.get(i);
            if (!(values instanceof Map)) {
                throw new CheckpointException(file, "lr_schedulers[" + i + "]", "must be an object");
            }
            SchedulerConfig scheduler = schedulers.get(i);
            guarded(file, "lr_schedulers[" + i + "]",
                    () -> scheduler.scheduler().loadStateDict(new StateDict(cast(values), new LinkedHashMap<>())));
        }
    }

    /** The seed the checkpointed run used, or null. */
    static Long savedSeed(Checkpoint checkpoint) {
        Object rng = checkpoint.entries().get("rng");
        if (rng instanceof Map) {
            Object seed = ((Map<?, ?>) rng).get("seed");
            if (seed instanceof Long) {
                return (Long) seed;
            }
        }
        return null;
    }

    private static void guarded(Path file, String field, Runnable restore) {
        try {
            restore.run();
        } catch (CheckpointException | MisconfigurationException e) {
            throw e;
        } catch (IllegalArgumentException | IllegalStateException | ClassCastException | NullPointerException e) {
            throw new CheckpointException(file, field, "cannot be restored: " + e.getMessage(), e);
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> cast(Object value) {
        return (Map<String, Object>) value;
    }
}
