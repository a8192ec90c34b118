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
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Builds the content of a checkpoint from a running Trainer. Lightning's {@code dump_checkpoint}. */
public final class Checkpoints {

    /** The format version this library writes. */
    public static final int FORMAT_VERSION = 1;

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
        checkpoint.tensors("state_dict").putAll(Weights.stateDict(module));
        entries.put("input_shapes", inputShapes(module));
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
