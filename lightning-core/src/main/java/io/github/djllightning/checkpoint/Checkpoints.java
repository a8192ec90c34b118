package io.github.djllightning.checkpoint;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import io.github.djllightning.Version;
import io.github.djllightning.callback.Callback;
import io.github.djllightning.module.LightningDataModule;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.optim.Optimizer;
import io.github.djllightning.optim.SchedulerConfig;
import io.github.djllightning.trainer.Trainer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Builds the content of a checkpoint from a running Trainer. Lightning's {@code dump_checkpoint}. */
public final class Checkpoints {

    /** The format version this library writes. */
    public static final int FORMAT_VERSION = 1;

    /** The largest input a layer is rebuilt with (a recorded first batch; larger means a corrupt file). */
    private static final long MAX_INPUT_ELEMENTS = 1L << 28;

    /** How the random numbers of a run are reproduced: see {@code EngineSetup.reseedForBatch}. */
    public static final String RNG_SCHEME = "engine and DJL random numbers reseeded from (seed, training batch number)"
            + " before every training batch";

    private Checkpoints() {}

    /**
     * Collects the Trainer's state: weights, loops, and unless weights only, callbacks, optimizers and schedulers.
     * Callbacks' and then the module's {@code onSaveCheckpoint} are not called here.
     *
     * @param trainer the Trainer
     * @param weightsOnly whether to leave out the training state
     * @return the checkpoint content
     */
    public static Checkpoint dump(Trainer trainer, boolean weightsOnly) {
        LightningModule module = trainer.lightningModule();
        Checkpoint checkpoint = new Checkpoint();
        Map<String, Object> entries = checkpoint.entries();
        entries.put("format_version", FORMAT_VERSION);
        entries.put("library_version", Version.VERSION);
        entries.put("epoch", trainer.currentEpoch());
        entries.put("global_step", trainer.globalStep());
        entries.put("module_class", module.getClass().getName());
        Map<String, Object> loops = new LinkedHashMap<>();
        loops.put("fit_loop", trainer.fitLoop().stateDict());
        entries.put("loops", loops);
        Map<String, Object> elapsed = new LinkedHashMap<>();
        elapsed.put("train", trainer.trainingTime().toNanos() / 1e9);
        entries.put("time_elapsed", elapsed);
        if (!module.isInitialized()) {
            org.slf4j.LoggerFactory.getLogger(Checkpoints.class).warn("Saving a checkpoint of {} before all of its"
                    + " layers ran once: the layers not created yet have no weights in it, and resuming from it will"
                    + " fail. Save after the first training step.", module.getClass().getSimpleName());
        }
        checkpoint.tensors("state_dict").putAll(Weights.stateDict(module));
        entries.put("input_shapes", inputShapes(module));
        Map<String, Object> precision = new LinkedHashMap<>();
        precision.put("precision", trainer.config().hardware().precision());
        // no loss scaler runs at these precisions; the entry is where its state goes
        precision.put("scaler", null);
        entries.put("precision", precision);
        Map<String, Object> rng = new LinkedHashMap<>();
        rng.put("seed", trainer.runSeed());
        rng.put("scheme", RNG_SCHEME);
        entries.put("rng", rng);
        LightningDataModule datamodule = trainer.datamodule();
        if (datamodule != null) {
            Map<String, Object> state = datamodule.stateDict();
            if (!state.isEmpty()) {
                entries.put("datamodule", state);
            }
            entries.put("datamodule_class", datamodule.getClass().getName());
        }
        if (!weightsOnly) {
            Map<String, Object> callbackStates = new LinkedHashMap<>();
            for (Callback callback : trainer.callbacks()) {
                Map<String, Object> state = callback.stateDict();
                if (!state.isEmpty()) {
                    callbackStates.put(callback.stateKey(), state);
                }
            }
            entries.put("callbacks", callbackStates);
            List<Object> optimizerStates = new ArrayList<>();
            Map<String, NDArray> optimizerTensors = checkpoint.tensors("optimizer_states");
            List<Optimizer> optimizers = safeOptimizers(trainer);
            for (int i = 0; i < optimizers.size(); i++) {
                StateDict state = optimizers.get(i).stateDict();
                optimizerStates.add(state.values());
                for (Map.Entry<String, NDArray> tensor : state.tensors().entrySet()) {
                    optimizerTensors.put(i + "." + tensor.getKey(), tensor.getValue());
                }
            }
            entries.put("optimizer_states", optimizerStates);
            List<Object> schedulerStates = new ArrayList<>();
            for (SchedulerConfig scheduler : safeSchedulers(trainer)) {
                schedulerStates.add(scheduler.scheduler().stateDict().values());
            }
            entries.put("lr_schedulers", schedulerStates);
        }
        entries.put("hyper_parameters", new LinkedHashMap<>(module.hparams()));
        if (module.hparamsType() != null) {
            entries.put("hparams_type", module.hparamsType().getName());
        }
        return checkpoint;
    }

    private static Map<String, Object> inputShapes(LightningModule module) {
        Map<Block, String> paths = ParameterNames.blockPaths(module);
        Map<String, Object> out = new LinkedHashMap<>();
        for (Map.Entry<Block, Shape[]> entry : module.initializationShapes().entrySet()) {
            String path = paths.get(entry.getKey());
            if (path == null) {
                continue;
            }
            List<long[]> shapes = new ArrayList<>();
            for (Shape shape : entry.getValue()) {
                shapes.add(shape.getShape());
            }
            out.put(path, shapes);
        }
        return out;
    }

    /**
     * Loads a checkpoint's weights into a module, in place. Layers whose parameters do not exist yet are created first
     * from the input shapes the checkpoint recorded, so a freshly constructed module works.
     *
     * @param module the module, built the same way as the one that saved the checkpoint
     * @param checkpoint the checkpoint read with {@link CheckpointReader#read}
     * @throws CheckpointException naming the file and the key for missing or extra weights, shape mismatches, or
     *     layers the module does not have
     */
    public static void loadWeights(LightningModule module, Checkpoint checkpoint) {
        initialize(module, checkpoint);
        Weights.load(module, checkpoint.tensors("state_dict"), checkpoint.source(), "state_dict.safetensors");
    }

    private static void initialize(LightningModule module, Checkpoint checkpoint) {
        if (module.isInitialized()) {
            return;
        }
        Path file = checkpoint.source();
        Map<String, Object> recorded = cast(checkpoint.entries().getOrDefault("input_shapes", Map.of()));
        Map<String, Block> byPath = new LinkedHashMap<>();
        ParameterNames.blockPaths(module).forEach((block, path) -> byPath.put(path, block));
        for (Map.Entry<String, Object> entry : recorded.entrySet()) {
            Block block = byPath.get(entry.getKey());
            String field = "input_shapes." + (entry.getKey().isEmpty() ? "<module>" : entry.getKey());
            if (block == null) {
                throw new CheckpointException(file, field, "the checkpoint initialized a layer '" + entry.getKey()
                        + "' that " + module.getClass().getSimpleName() + " does not have; its layers are "
                        + byPath.keySet() + ". Build the module the same way as the one that saved it");
            }
            if (block.isInitialized()) {
                continue;
            }
            Shape[] shapes = shapes(entry.getValue(), file, field);
            try {
                if (block == module) {
                    module.initialize(module.parameterManager(), ai.djl.ndarray.types.DataType.FLOAT32, shapes);
                } else {
                    module.initializeBlock(block, shapes);
                }
            } catch (RuntimeException e) {
                throw new CheckpointException(file, field, "the layer cannot be built for inputs of shapes "
                        + java.util.Arrays.toString(shapes) + ": " + e.getMessage()
                        + ". Build the module the same way as the one that saved the checkpoint", e);
            }
        }
    }

    private static Shape[] shapes(Object value, Path file, String field) {
        if (!(value instanceof List)) {
            throw new CheckpointException(file, field, "must be a list of shapes, found " + value);
        }
        List<Shape> out = new ArrayList<>();
        for (Object shape : (List<?>) value) {
            if (!(shape instanceof List)) {
                throw new CheckpointException(file, field, "must be a list of shapes, found " + value);
            }
            long[] dims = new long[((List<?>) shape).size()];
            for (int i = 0; i < dims.length; i++) {
                Object dim = ((List<?>) shape).get(i);
                if (!(dim instanceof Long) || (Long) dim < 0) {
                    throw new CheckpointException(file, field, "holds " + dim + ", not a size");
                }
                dims[i] = (Long) dim;
            }
            Shape built = new Shape(dims);
            long elements = 1;
            for (long dim : dims) {
                // capped on the way, so no overflow
                elements = Math.min(MAX_INPUT_ELEMENTS + 1, elements * Math.min(dim, MAX_INPUT_ELEMENTS + 1));
            }
            if (dims.length == 0 || elements > MAX_INPUT_ELEMENTS) {
                throw new CheckpointException(file, field, "shape " + built + " is not a plausible input shape (at"
                        + " least one dimension, at most " + MAX_INPUT_ELEMENTS + " elements)");
            }
            out.add(built);
        }
        return out.toArray(new Shape[0]);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> cast(Object value) {
        return (Map<String, Object>) value;
    }

    private static List<Optimizer> safeOptimizers(Trainer trainer) {
        try {
            return trainer.optimizers();
        } catch (IllegalStateException e) {
            return List.of();
        }
    }

    private static List<SchedulerConfig> safeSchedulers(Trainer trainer) {
        try {
            return trainer.lrSchedulerConfigs();
        } catch (IllegalStateException e) {
            return List.of();
        }
    }
}
