package io.github.djllightning.module;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.ParameterStore;
import ai.djl.training.dataset.Batch;
import ai.djl.util.Pair;
import ai.djl.util.PairList;
import io.github.djllightning.callback.Callback;
import io.github.djllightning.checkpoint.Checkpoint;
import io.github.djllightning.checkpoint.CheckpointException;
import io.github.djllightning.checkpoint.ParameterNames;
import io.github.djllightning.data.DataLoader;
import io.github.djllightning.log.LogOptions;
import io.github.djllightning.optim.LrScheduler;
import io.github.djllightning.optim.Optimizer;
import io.github.djllightning.optim.OptimizerConfig;
import io.github.djllightning.trainer.GradientClipAlgorithm;
import io.github.djllightning.trainer.LightningOptimizer;
import io.github.djllightning.trainer.Trainer;
import io.github.djllightning.trainer.TrainerFn;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The science of a model, Lightning style: the layers (child blocks), the training step, the validation and test
 * steps, the prediction step and the optimizers; the {@link Trainer} does the engineering around them.
 *
 * <p>A LightningModule is a DJL {@link Block}: add layers with {@link #addChildBlock(String, Block)} and call them with
 * {@link #forward(String, NDArray)}. Parameters are created lazily from the shape of the first input that reaches
 * each child, in the module's own {@link NDManager}.
 *
 * <pre>{@code
 * class LitAutoEncoder extends LightningModule {
 *     LitAutoEncoder(Block encoder, Block decoder) {
 *         addChildBlock("encoder", encoder);
 *         addChildBlock("decoder", decoder);
 *     }
 *     @Override public NDArray trainingStep(Batch batch, int batchIdx) {
 *         NDArray x = batch.getData().head().reshape(-1, 28 * 28);
 *         NDArray loss = forward("decoder", forward("encoder", x)).sub(x).square().mean();
 *         log("train_loss", loss);
 *         return loss;
 *     }
 *     @Override public OptimizerConfig configureOptimizers() {
 *         return OptimizerConfig.of(new Adam(parameters(), 1e-3));
 *     }
 * }
 * }</pre>
 *
 * <p>Hooks (the {@code on...} methods) do nothing by default; the Trainer calls each right after the callbacks' hook
 * of the same name.
 *
 * <p>Memory: each batch has its own {@link NDManager}, closed when the step ends, and DJL puts the result of an
 * operation in the manager of its first operand. So everything computed from the batch is freed with the step (keep a
 * value longer by reading it to the host, or {@code attach} it to a manager of your own). Write operations with the
 * batch-derived array first ({@code x.matMul(w)}, not {@code w.matMul(x)}): a result computed from a parameter first
 * lands in the parameters' manager and lives as long as the module.
 */
public abstract class LightningModule extends AbstractBlock implements AutoCloseable {

    /** Returned by {@link #onTrainBatchStart} to end the current training epoch early. */
    public static final int END_EPOCH = -1;

    private static final Logger LOG = LoggerFactory.getLogger(LightningModule.class);
    private static final byte VERSION = 1;

    private Trainer trainer;
    private NDManager parameterManager;
    private boolean ownsParameterManager;
    private ParameterStore parameterStore;
    private ParameterStore forwardStore;
    private boolean training = true;
    private boolean automaticOptimization = true;
    private boolean warnedNoTrainer;
    private final Map<String, Object> hparams = new LinkedHashMap<>();
    private Class<? extends Record> hparamsType;
    private Map<String, Block> childrenByName = Map.of();
    private final Set<Block> initializedBlocks = Collections.newSetFromMap(new IdentityHashMap<>());
    private final Map<Block, Shape[]> initializationShapes = new IdentityHashMap<>();
    private int childrenIndexed = -1;

    /** Creates a module with no layers. */
    protected LightningModule() {
        super(VERSION);
    }

    // ------------------------------------------------------------------ steps

    /**
     * One training step: computes and returns the loss of a batch. Lightning's {@code training_step}.
     *
     * <p>Return the loss as a scalar {@link NDArray}, or a {@code Map<String, Object>} holding it under {@code "loss"}
     * (other entries reach {@code onTrainBatchEnd}), or {@code null} to skip backward for this batch. Subclasses may
     * narrow the return type, e.g. {@code public NDArray trainingStep(...)}.
     *
     * @param batch the batch, already on the module's device
     * @param batchIdx the index of the batch within the epoch
     * @return the loss, a map with a {@code "loss"} entry, or null
     */
    public Object trainingStep(Batch batch, int batchIdx) {
        throw new UnsupportedOperationException(
                getClass().getSimpleName() + " does not override trainingStep(Batch, int): it is needed to fit.");
    }

    /**
     * One validation step; log metrics here with {@link #log}. Lightning's {@code validation_step}.
     *
     * @param batch the batch
     * @param batchIdx the index of the batch within this validation run
     * @return anything, passed to {@code onValidationBatchEnd}; usually null
     */
    public Object validationStep(Batch batch, int batchIdx) {
        return null;
    }

    /**
     * One validation step when there may be several validation loaders; by default calls {@link
     * #validationStep(Batch, int)}.
     *
     * @param batch the batch
     * @param batchIdx the index of the batch within this loader's run
     * @param dataloaderIdx the index of the loader
     * @return anything, passed to {@code onValidationBatchEnd}
     */
    public Object validationStep(Batch batch, int batchIdx, int dataloaderIdx) {
        return validationStep(batch, batchIdx);
    }

    /**
     * One test step; log metrics here with {@link #log}. Lightning's {@code test_step}.
     *
     * @param batch the batch
     * @param batchIdx the index of the batch
     * @return anything, passed to {@code onTestBatchEnd}
     */
    public Object testStep(Batch batch, int batchIdx) {
        return null;
    }

    /**
     * One test step when there may be several test loaders; by default calls {@link #testStep(Batch, int)}.
     *
     * @param batch the batch
     * @param batchIdx the index of the batch
     * @param dataloaderIdx the index of the loader
     * @return anything, passed to {@code onTestBatchEnd}
     */
    public Object testStep(Batch batch, int batchIdx, int dataloaderIdx) {
        return testStep(batch, batchIdx);
    }

    /**
     * One prediction step; by default the module's {@link #forward(NDList)} on the batch's data.
     *
     * <p>The result is kept beyond the step: NDArrays in it are copied out of the step's memory by the Trainer.
     *
     * @param batch the batch
     * @param batchIdx the index of the batch
     * @param dataloaderIdx the index of the loader
     * @return the prediction
     */
    public Object predictStep(Batch batch, int batchIdx, int dataloaderIdx) {
        return forward(batch.getData());
    }

    /**
     * The optimizers (and learning-rate schedulers) to train with. Lightning's {@code configure_optimizers}.
     *
     * @return one optimizer, an optimizer with schedulers, or several optimizers (manual optimization)
     */
    public OptimizerConfig configureOptimizers() {
        throw new UnsupportedOperationException(
                getClass().getSimpleName()
                        + " does not override configureOptimizers(): return e.g."
                        + " OptimizerConfig.of(new Adam(parameters(), 1e-3)) from it.");
    }

    // ------------------------------------------------------------------ forward

    /**
     * The module's own computation, used for inference and by {@link #predictStep} by default. Lightning's {@code
     * forward}. Override it; inside, call the layers with {@link #forward(String, NDList)}.
     *
     * @param inputs the inputs
     * @return the outputs
     */
    public NDList forward(NDList inputs) {
        throw new UnsupportedOperationException(
                getClass().getSimpleName()
                        + " does not override forward(NDList); override it to use the module for prediction.");
    }

    /**
     * Runs {@link #forward(NDList)} on one array and returns its single output.
     *
     * @param input the input
     * @return the single output
     */
    public NDArray forward(NDArray input) {
        return forward(new NDList(input)).singletonOrThrow();
    }

    /**
     * Runs a child layer, added with {@link #addChildBlock(String, Block)}, on the inputs, initializing it from
     * their shapes on first use.
     *
     * @param child the name given to {@code addChildBlock}
     * @param inputs the inputs
     * @return the layer's outputs
     */
    public NDList forward(String child, NDList inputs) {
        return forward(child(child), inputs);
    }

    /**
     * Runs a child layer on one array and returns its single output.
     *
     * @param child the name given to {@code addChildBlock}
     * @param input the input
     * @return the single output
     */
    public NDArray forward(String child, NDArray input) {
        return forward(child(child), new NDList(input)).singletonOrThrow();
    }

    /**
     * Runs a block with this module's parameters and training mode, initializing it on first use.
     *
     * @param block the block, usually a child of this module
     * @param inputs the inputs
     * @return the block's outputs
     */
    public NDList forward(Block block, NDList inputs) {
        // isInitialized walks the block's whole parameter tree; remember the answer instead of asking every step
        if (!initializedBlocks.contains(block)) {
            if (!block.isInitialized()) {
                initializeBlock(block, inputs.getShapes());
            }
            initializedBlocks.add(block);
        }
        ParameterStore store = forwardStore != null ? forwardStore : parameterStore();
        return block.forward(store, inputs, training);
    }

    /**
     * Runs a block on one array and returns its single output.
     *
     * @param block the block
     * @param input the input
     * @return the single output
     */
    public NDArray forward(Block block, NDArray input) {
        return forward(block, new NDList(input)).singletonOrThrow();
    }

    /** {@inheritDoc} Delegates to {@link #forward(NDList)} with the given store and training mode. */
    @Override
    protected NDList forwardInternal(
            ParameterStore store, NDList inputs, boolean trainingMode, PairList<String, Object> params) {
        ParameterStore previousStore = forwardStore;
        boolean previousTraining = training;
        forwardStore = store;
        training = trainingMode;
        try {
            return forward(inputs);
        } finally {
            forwardStore = previousStore;
            training = previousTraining;
        }
    }

    /**
     * The child layer added under the given name.
     *
     * @param name the name given to {@code addChildBlock}
     * @return the child
     * @throws IllegalArgumentException naming the children that exist when there is none of that name
     */
    public Block child(String name) {
        if (childrenIndexed != children.size()) {
            Map<String, Block> byName = new HashMap<>();
            int position = 0;
            for (Pair<String, Block> entry : children) {
                byName.put(ParameterNames.childName(entry.getKey(), position++), entry.getValue());
            }
            childrenByName = byName;
            childrenIndexed = children.size();
        }
        Block block = childrenByName.get(name);
        if (block == null) {
            throw new IllegalArgumentException(
                    getClass().getSimpleName() + " has no child block named '" + name + "'; its children are "
                            + childrenByName.keySet() + ". Add it with addChildBlock(\"" + name + "\", block).");
        }
        return block;
    }

    /**
     * Creates a layer's parameters for inputs of the given shapes, in this module's manager, and remembers the shapes
     * so that a checkpoint can rebuild the layer before loading its weights. {@link #forward(Block, NDList)} calls it
     * on first use.
     *
     * @param block the layer, usually a child of this module
     * @param inputShapes the shapes of its inputs
     */
    public void initializeBlock(Block block, Shape... inputShapes) {
        block.initialize(parameterManager(), DataType.FLOAT32, inputShapes);
        // a first forward pass inside the user's NDScope must not hand the new parameters to that scope
        for (Parameter parameter : block.getParameters().values()) {
            if (parameter.isInitialized()) {
                NDScope.unregister(parameter.getArray());
            }
        }
        initializationShapes.put(block, inputShapes.clone());
    }

    /**
     * The input shapes each layer (or the whole module) was initialized with, as checkpoints store them.
     *
     * @return block to input shapes; read-only
     */
    public Map<Block, Shape[]> initializationShapes() {
        return Collections.unmodifiableMap(initializationShapes);
    }

    /** {@inheritDoc} Runs the module once on zeros of these shapes, so every layer creates its parameters. */
    @Override
    public void initialize(NDManager manager, DataType dataType, Shape... inputShapes) {
        if (parameterManager == null) {
            parameterManager = manager;
            ownsParameterManager = false;
        }
        for (Parameter parameter : getDirectParameters().values()) {
            parameter.initialize(parameterManager(), dataType);
        }
        if (inputShapes.length == 0) {
            return;
        }
        initializationShapes.put(this, inputShapes.clone());
        boolean gradMode = JniUtils.isGradMode();
        boolean previousTraining = training;
        JniUtils.setGradMode(false);
        training = false;
        try (NDManager scratch = parameterManager().newSubManager()) {
            NDList zeros = new NDList();
            for (Shape shape : inputShapes) {
                zeros.add(scratch.zeros(shape, dataType));
            }
            forward(zeros);
        } finally {
            training = previousTraining;
            JniUtils.setGradMode(gradMode);
        }
    }

    /** {@inheritDoc} True when every parameter has its array. */
    @Override
    public boolean isInitialized() {
        for (Parameter parameter : getParameters().values()) {
            if (!parameter.isInitialized()) {
                return false;
            }
        }
        return true;
    }

    /** {@inheritDoc} Not known in general for a LightningModule: override it to nest the module in DJL blocks. */
    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        throw new UnsupportedOperationException(
                getClass().getSimpleName()
                        + " does not override getOutputShapes(Shape[]); override it to nest the module in a"
                        + " DJL SequentialBlock.");
    }

    // ------------------------------------------------------------------ state

    /**
     * All parameters of the module and its layers, in a stable order (the order optimizers and checkpoints use).
     *
     * @return the parameters
     */
    public List<Parameter> parameters() {
        return new ArrayList<>(getParameters().values());
    }

    /**
     * The manager that owns the module's parameters; created on the CPU on first use unless the Trainer or {@link
     * #initialize} gave one.
     *
     * @return the parameter manager
     */
    public NDManager parameterManager() {
        if (parameterManager == null) {
            parameterManager = NDManager.newBaseManager(Device.cpu());
            parameterManager.setName(getClass().getSimpleName() + "-parameters");
            ownsParameterManager = true;
        }
        return parameterManager;
    }

    /**
     * Makes the module create its parameters in the given manager; only before any parameter exists.
     *
     * @param manager the manager, whose device becomes the module's device
     */
    public void setParameterManager(NDManager manager) {
        if (parameterManager == manager) {
            return;
        }
        for (Parameter parameter : getParameters().values()) {
            // without a manager yet, initialized parameters belong to layers built elsewhere and stay where they are
            if (parameter.isInitialized() && parameterManager != null) {
                throw new IllegalStateException(
                        getClass().getSimpleName() + " already has parameters on " + device()
                                + "; it cannot move to another manager.");
            }
        }
        if (ownsParameterManager && parameterManager != null) {
            parameterManager.close();
        }
        parameterManager = manager;
        ownsParameterManager = false;
        parameterStore = null;
    }

    /**
     * Frees the module's native memory (parameters, and anything created in its manager, such as kept predictions)
     * when the module created its manager itself. The module is unusable afterwards.
     */
    @Override
    public void close() {
        if (ownsParameterManager && parameterManager != null) {
            parameterManager.close();
        }
        parameterManager = null;
        parameterStore = null;
        ownsParameterManager = false;
        initializedBlocks.clear();
    }

    /** The device the module's parameters live on. */
    public Device device() {
        return parameterManager().getDevice();
    }

    /**
     * Places the module on a device before its parameters exist; called by the Trainer with its accelerator.
     *
     * @param device the device
     * @throws IllegalStateException when parameters already exist on another device
     */
    public void useDevice(Device device) {
        if (parameterManager != null && parameterManager.getDevice().equals(device)) {
            return;
        }
        for (Parameter parameter : getParameters().values()) {
            // layers built elsewhere (a trained module passed in) keep their own manager; they must be on the device
            if (parameter.isInitialized() && (parameterManager != null
                    || !parameter.getArray().getDevice().equals(device))) {
                Device where = parameter.getArray().getDevice();
                throw new IllegalStateException(
                        getClass().getSimpleName() + " already has parameters on " + where
                                + " and cannot move to " + device + "; run it on " + where
                                + " or build a new module.");
            }
        }
        NDManager manager = NDManager.newBaseManager(device);
        manager.setName(getClass().getSimpleName() + "-parameters");
        setParameterManager(manager);
        ownsParameterManager = true;
    }

    private ParameterStore parameterStore() {
        if (parameterStore == null) {
            parameterStore = new ParameterStore(parameterManager(), false);
        }
        return parameterStore;
    }

    /** Whether the module is in training mode (layers such as dropout behave accordingly). */
    public boolean isTraining() {
        return training;
    }

    /**
     * Puts the module in training mode.
     *
     * @return this module
     */
    public LightningModule train() {
        training = true;
        return this;
    }

    /**
     * Puts the module in evaluation mode.
     *
     * @return this module
     */
    public LightningModule eval() {
        training = false;
        return this;
    }

    /**
     * Stops gradients for every parameter and puts the module in evaluation mode, for inference or as a frozen
     * feature extractor.
     *
     * @return this module
     */
    public LightningModule freeze() {
        freezeParameters(true);
        return eval();
    }

    /**
     * Undoes {@link #freeze()}: gradients for every trainable parameter, training mode. Running statistics
     * (normalization layers' running mean and variance) never take gradients.
     *
     * @return this module
     */
    public LightningModule unfreeze() {
        freezeParameters(false, parameter -> parameter.getType() != Parameter.Type.RUNNING_MEAN
                && parameter.getType() != Parameter.Type.RUNNING_VAR);
        return train();
    }

    /**
     * Whether the Trainer runs backward and the optimizer itself (true, the default), or {@link #trainingStep} does
     * it with {@link #optimizers()} and {@link #manualBackward} (false).
     *
     * @return whether optimization is automatic
     */
    public boolean isAutomaticOptimization() {
        return automaticOptimization;
    }

    /**
     * Switches between automatic and manual optimization; call it in the constructor.
     *
     * @param automatic false for manual optimization
     */
    public void setAutomaticOptimization(boolean automatic) {
        this.automaticOptimization = automatic;
    }

    /**
     * Records hyperparameters: a record's components or a map's entries, less the names in {@code ignore}. They go to
     * {@code hparams.yaml} and checkpoints, and {@link #loadFromCheckpoint(Class, Path, Map, Object...)} builds the
     * module again from them. Lightning's {@code save_hyperparameters}.
     *
     * <p>Values that are layers (a {@link Block}, which includes a LightningModule, or a collection, map or array of
     * them) are left out with a warning: their weights are in the checkpoint, and they are given back to {@code
     * loadFromCheckpoint} as extra arguments. Name them in {@code ignore} to leave them out without the warning.
     *
     * <p>When a record is given, its class is remembered ({@link #hparamsType()}) and stored in checkpoints, so that a
     * constructor taking the record can be called when loading. Several calls merge; the last record's class is kept.
     *
     * <pre>{@code
     * record HParams(int hidden, double lr) {}
     *
     * LitModel(HParams hp, Block encoder) {
     *     saveHyperparameters(hp);                   // or saveHyperparameters(Map.of("hidden", 64, "lr", 1e-3))
     *     addChildBlock("encoder", encoder);
     * }
     * }</pre>
     *
     * @param recordOrMap a record or a {@code Map<String, ?>}
     * @param ignore names to leave out (Lightning's {@code ignore}); an unknown name is warned about
     * @throws IllegalArgumentException for anything other than a record or a map with string keys
     */
    public void saveHyperparameters(Object recordOrMap, String... ignore) {
        hparams.putAll(HyperParameters.select(recordOrMap, ignore, getClass()));
        if (recordOrMap instanceof Record) {
            hparamsType = ((Record) recordOrMap).getClass();
        }
    }

    /**
     * The recorded hyperparameters, in the order they were saved.
     *
     * @return name to value; mutable, and what checkpoints and loggers store
     */
    public Map<String, Object> hparams() {
        return hparams;
    }

    /**
     * The class of the last record given to {@link #saveHyperparameters}, stored in checkpoints as {@code
     * hparams_type}.
     *
     * @return the record class, or null when only maps (or nothing) were given
     */
    public Class<? extends Record> hparamsType() {
        return hparamsType;
    }

    /**
     * Records the hyperparameters a module was loaded with. Values the constructor saved itself are kept when it
     * received the hyperparameters (they are the same values, with their declared types); otherwise the loaded values
     * replace them.
     *
     * @param values the stored hyperparameters with the overrides applied
     * @param recordType the record class the checkpoint names, or null
     * @param constructorReceived whether the constructor was given the hyperparameters
     */
    void restoreHyperparameters(Map<String, Object> values, Class<?> recordType, boolean constructorReceived) {
        for (Map.Entry<String, Object> entry : values.entrySet()) {
            if (constructorReceived) {
                hparams.putIfAbsent(entry.getKey(), entry.getValue());
            } else {
                hparams.put(entry.getKey(), entry.getValue());
            }
        }
        if (hparamsType == null && recordType != null) {
            hparamsType = recordType.asSubclass(Record.class);
        }
    }

    // ------------------------------------------------------------------ loading

    /**
     * Builds a module from a checkpoint, ready for inference: Lightning's {@code load_from_checkpoint}. The same as
     * {@link #loadFromCheckpoint(Class, Path, Map, Object...)} with no overrides and no extra arguments.
     *
     * <pre>{@code
     * LitModel model = LightningModule.loadFromCheckpoint(LitModel.class, Path.of("best_model.ckpt"));
     * NDArray yHat = model.forward(x);
     * }</pre>
     *
     * @param type the module class (or a superclass of the class that saved the checkpoint)
     * @param checkpoint the {@code .ckpt} file
     * @param <M> the module type
     * @return the module with the checkpoint's weights, in evaluation mode
     * @throws CheckpointException when the file is missing, unreadable or corrupt, or its weights do not fit the
     *     module (missing or extra keys, shape mismatches)
     * @throws IllegalArgumentException when the checkpoint was saved by another class, or no constructor fits
     */
    public static <M extends LightningModule> M loadFromCheckpoint(Class<M> type, Path checkpoint) {
        return ModuleLoader.load(type, checkpoint, Map.of(), new Object[0]);
    }

    /**
     * Builds a module from a checkpoint with some hyperparameters changed and with the objects the hyperparameters do
     * not hold (layers, usually) passed to its constructor: Lightning's {@code load_from_checkpoint(path, in_dim=128,
     * encoder=encoder)}.
     *
     * <p>In order: the checkpoint's {@code hyper_parameters} are read and the overrides applied (an override of a name
     * that is neither stored nor a component of the stored record is an error listing the known names); the module
     * is constructed with the first constructor of these shapes that fits:
     *
     * <ol>
     *   <li>{@code (HParams record, extra arguments...)}, when the module saved a record (its class is stored as
     *       {@code hparams_type}): the record is rebuilt from the values, converted to its components' types (whole
     *       numbers to {@code int}, {@code long}, {@code short}; numbers to {@code float}, {@code double}; strings
     *       to enums; lists to lists or arrays; a missing value to null, an error for a primitive);
     *   <li>{@code (Map<String, Object> hparams, extra arguments...)}, receiving the values as JSON read them
     *       ({@code Long}, {@code Double}, {@code String}, {@code Boolean}, {@code List}, {@code Map});
     *   <li>{@code (extra arguments...)}: the hyperparameters are then only recorded in {@link #hparams()}.
     * </ol>
     *
     * <p>Then the module's {@link #hparams()} hold the stored values with the overrides applied, {@link
     * #onLoadCheckpoint} is called with the checkpoint (its {@code hyper_parameters} with the overrides applied), the
     * weights are loaded (layers created first from the input shapes the checkpoint recorded), and the module is put
     * in evaluation mode. The tensors are read into a manager of their own, closed once they are copied into the
     * module.
     *
     * <p>The checkpoint's {@code module_class} must be {@code type}, a subclass of it (that subclass is built), or a
     * superclass of it ({@code type} is built, with a warning); another class is an error.
     *
     * <pre>{@code
     * // trained as new LitAutoEncoder(new HParams(32, 10), encoder, decoder) with saveHyperparameters(hp)
     * LitAutoEncoder model = LightningModule.loadFromCheckpoint(
     *         LitAutoEncoder.class, path, Map.of("outDim", 10), encoder, decoder);
     * }</pre>
     *
     * <p>An override that changes the shape of a layer (Lightning's {@code in_dim=128} on weights trained with 32)
     * builds the module but cannot load the stored weights: that is a {@link CheckpointException} naming the
     * parameter and both shapes.
     *
     * @param type the module class (or a superclass of the class that saved the checkpoint)
     * @param checkpoint the {@code .ckpt} file
     * @param overrides hyperparameters to change, by name; may be empty
     * @param extraArgs objects passed to the constructor after the hyperparameters, in order
     * @param <M> the module type
     * @return the module with the checkpoint's weights, in evaluation mode
     * @throws CheckpointException when the file is missing, unreadable or corrupt, or its weights do not fit the
     *     module (missing or extra keys, shape mismatches)
     * @throws IllegalArgumentException naming the class, the file and the constructor shapes tried when no
     *     constructor fits or the constructor fails; for an unknown override name, a stored value that cannot be
     *     converted, or a checkpoint saved by another class
     */
    public static <M extends LightningModule> M loadFromCheckpoint(
            Class<M> type, Path checkpoint, Map<String, ?> overrides, Object... extraArgs) {
        return ModuleLoader.load(type, checkpoint, overrides, extraArgs);
    }

    // ------------------------------------------------------------------ trainer access

    /**
     * Attaches the module to the Trainer that runs it; called by the Trainer.
     *
     * @param trainer the Trainer, or null to detach
     */
    public void attachTrainer(Trainer trainer) {
        this.trainer = trainer;
    }

    /**
     * The Trainer running this module.
     *
     * @return the Trainer
     * @throws IllegalStateException when the module is not attached to one
     */
    public Trainer getTrainer() {
        if (trainer == null) {
            throw new IllegalStateException(getClass().getSimpleName() + " is not attached to a Trainer: call this from"
                    + " a step or hook while Trainer.fit/validate/test/predict runs the module.");
        }
        return trainer;
    }

    /** Whether a Trainer runs this module. */
    public boolean hasTrainer() {
        return trainer != null;
    }

    /** The number of completed training epochs; 0 without a Trainer. */
    public int currentEpoch() {
        return trainer == null ? 0 : trainer.currentEpoch();
    }

    /** The number of optimizer steps taken; 0 without a Trainer. */
    public long globalStep() {
        return trainer == null ? 0 : trainer.globalStep();
    }

    /**
     * The optimizers for manual optimization, wrapped so their steps are counted and hooked.
     *
     * @return the optimizers in the order {@link #configureOptimizers()} gave them
     */
    public List<LightningOptimizer> optimizers() {
        return getTrainer().lightningOptimizers();
    }

    /**
     * The single optimizer for manual optimization.
     *
     * @return the optimizer
     * @throws IllegalStateException when there are several
     */
    public LightningOptimizer optimizer() {
        List<LightningOptimizer> all = optimizers();
        if (all.size() != 1) {
            throw new IllegalStateException(
                    "optimizer() needs exactly one optimizer, " + getClass().getSimpleName() + " has " + all.size()
                            + "; use optimizers().get(i).");
        }
        return all.get(0);
    }

    /**
     * The learning-rate schedulers, for stepping them by hand in manual optimization.
     *
     * @return the schedulers in configuration order
     */
    public List<LrScheduler> lrSchedulers() {
        return getTrainer().lrSchedulers();
    }

    /**
     * Runs backward on a loss in manual optimization, with the backward hooks.
     *
     * @param loss a scalar loss
     */
    public void manualBackward(NDArray loss) {
        getTrainer().manualBackward(loss);
    }

    // ------------------------------------------------------------------ logging

    /**
     * Logs a metric with the hook's default options.
     *
     * @param name the metric's name
     * @param value a scalar array (it stays on the device; no host copy per step)
     */
    public void log(String name, NDArray value) {
        log(name, value, LogOptions.defaults());
    }

    /**
     * Logs a metric.
     *
     * @param name the metric's name
     * @param value a scalar array
     * @param options how it is recorded
     */
    public void log(String name, NDArray value, LogOptions options) {
        if (checkAttachedForLogging()) {
            trainer.metrics().log(name, value, options);
        }
    }

    /**
     * Logs a number with the hook's default options.
     *
     * @param name the metric's name
     * @param value the value
     */
    public void log(String name, double value) {
        log(name, value, LogOptions.defaults());
    }

    /**
     * Logs a number.
     *
     * @param name the metric's name
     * @param value the value
     * @param options how it is recorded
     */
    public void log(String name, double value, LogOptions options) {
        if (checkAttachedForLogging()) {
            trainer.metrics().log(name, value, options);
        }
    }

    /**
     * Logs several metrics with the same options.
     *
     * @param values metric name to value: NDArrays or Numbers
     */
    public void logDict(Map<String, ?> values) {
        logDict(values, LogOptions.defaults());
    }

    /**
     * Logs several metrics with the same options.
     *
     * @param values metric name to value: NDArrays or Numbers
     * @param options how they are recorded
     */
    public void logDict(Map<String, ?> values, LogOptions options) {
        for (Map.Entry<String, ?> entry : values.entrySet()) {
            Object value = entry.getValue();
            if (value instanceof NDArray) {
                log(entry.getKey(), (NDArray) value, options);
            } else if (value instanceof Number) {
                log(entry.getKey(), ((Number) value).doubleValue(), options);
            } else {
                throw new IllegalArgumentException(
                        "logDict: the value of '" + entry.getKey() + "' is "
                                + (value == null ? "null" : "a " + value.getClass().getName())
                                + "; log scalar NDArrays or numbers.");
            }
        }
    }

    private boolean checkAttachedForLogging() {
        if (trainer != null) {
            return true;
        }
        if (!warnedNoTrainer) {
            warnedNoTrainer = true;
            LOG.warn(
                    "{}.log() was called without a Trainer: nothing is recorded. Metrics are recorded while a"
                            + " Trainer runs the module.",
                    getClass().getSimpleName());
        }
        return false;
    }

    // ------------------------------------------------------------------ data hooks

    /** Downloads or writes data once, before {@link #setup}; do not set state here. */
    public void prepareData() {}

    /** Sets up what the stage needs (splits, vocabularies, ...), before the loaders are requested. */
    public void setup(TrainerFn stage) {}

    /** Releases what {@link #setup} created; called at the end of every stage. */
    public void teardown(TrainerFn stage) {}

    /** Creates layers lazily (for very large models); called once before {@link #configureOptimizers}. */
    public void configureModel() {}

    /**
     * Callbacks this module needs; they replace Trainer callbacks of the same class.
     *
     * @return the callbacks, none by default
     */
    public List<Callback> configureCallbacks() {
        return Collections.emptyList();
    }

    /**
     * The training loader, when the module provides its own data.
     *
     * @return the loader, or null
     */
    public DataLoader trainDataloader() {
        return null;
    }

    /**
     * The validation loader, when the module provides its own data.
     *
     * @return the loader, or null
     */
    public DataLoader valDataloader() {
        return null;
    }

    /**
     * The validation loaders; by default {@link #valDataloader()} alone. Override for several.
     *
     * @return the loaders, empty when none
     */
    public List<DataLoader> valDataloaders() {
        return singletonOrEmpty(valDataloader());
    }

    /**
     * The test loader, when the module provides its own data.
     *
     * @return the loader, or null
     */
    public DataLoader testDataloader() {
        return null;
    }

    /**
     * The test loaders; by default {@link #testDataloader()} alone.
     *
     * @return the loaders, empty when none
     */
    public List<DataLoader> testDataloaders() {
        return singletonOrEmpty(testDataloader());
    }

    /**
     * The prediction loader, when the module provides its own data.
     *
     * @return the loader, or null
     */
    public DataLoader predictDataloader() {
        return null;
    }

    /**
     * The prediction loaders; by default {@link #predictDataloader()} alone.
     *
     * @return the loaders, empty when none
     */
    public List<DataLoader> predictDataloaders() {
        return singletonOrEmpty(predictDataloader());
    }

    static List<DataLoader> singletonOrEmpty(DataLoader loader) {
        return loader == null ? Collections.emptyList() : List.of(loader);
    }

    /**
     * Changes a batch before it moves to the device.
     *
     * @param batch the batch
     * @param dataloaderIdx the loader's index
     * @return the batch to use
     */
    public Batch onBeforeBatchTransfer(Batch batch, int dataloaderIdx) {
        return batch;
    }

    /**
     * Moves a batch to the module's device; arrays already there are used as they are.
     *
     * @param batch the batch
     * @param device the device
     * @param dataloaderIdx the loader's index
     * @return the batch on the device
     */
    public Batch transferBatchToDevice(Batch batch, Device device, int dataloaderIdx) {
        return Batches.toDevice(batch, device);
    }

    /**
     * Changes a batch after it moved to the device (for example GPU augmentations).
     *
     * @param batch the batch
     * @param dataloaderIdx the loader's index
     * @return the batch to use
     */
    public Batch onAfterBatchTransfer(Batch batch, int dataloaderIdx) {
        return batch;
    }

    // ------------------------------------------------------------------ run hooks

    /** Fires once when fit begins. */
    public void onFitStart() {}

    /** Fires once when fit ends. */
    public void onFitEnd() {}

    /** Fires before the first training epoch. */
    public void onTrainStart() {}

    /** Fires after the last training epoch. */
    public void onTrainEnd() {}

    /** Fires at the start of every training epoch. */
    public void onTrainEpochStart() {}

    /** Fires at the end of every training epoch. */
    public void onTrainEpochEnd() {}

    /**
     * Fires before a training batch; return {@link #END_EPOCH} to end the epoch here.
     *
     * @param batch the batch
     * @param batchIdx its index within the epoch
     * @return {@link #END_EPOCH} to end the epoch, anything else to go on
     */
    public int onTrainBatchStart(Batch batch, int batchIdx) {
        return 0;
    }

    /** Fires after a training batch with what {@link #trainingStep} returned ({@code "loss"} and extras). */
    public void onTrainBatchEnd(Map<String, Object> outputs, Batch batch, int batchIdx) {}

    /** Fires when a validation run begins. */
    public void onValidationStart() {}

    /** Fires when a validation run ends. */
    public void onValidationEnd() {}

    /** Fires at the start of a validation epoch. */
    public void onValidationEpochStart() {}

    /** Fires at the end of a validation epoch; metrics logged in the steps are not yet reduced here. */
    public void onValidationEpochEnd() {}

    /** Fires before {@link #validationStep}. */
    public void onValidationBatchStart(Batch batch, int batchIdx, int dataloaderIdx) {}

    /** Fires after {@link #validationStep} with what it returned. */
    public void onValidationBatchEnd(Object outputs, Batch batch, int batchIdx, int dataloaderIdx) {}

    /** Puts the module in evaluation mode before validation; override to keep some layers training. */
    public void onValidationModelEval() {
        eval();
    }

    /** Puts the module back in training mode after validation. */
    public void onValidationModelTrain() {
        train();
    }

    /** Clears gradients before validation inside fit, so they do not hold memory. */
    public void onValidationModelZeroGrad() {}

    /** Fires when a test run begins. */
    public void onTestStart() {}

    /** Fires when a test run ends. */
    public void onTestEnd() {}

    /** Fires at the start of the test epoch. */
    public void onTestEpochStart() {}

    /** Fires at the end of the test epoch. */
    public void onTestEpochEnd() {}

    /** Fires before {@link #testStep}. */
    public void onTestBatchStart(Batch batch, int batchIdx, int dataloaderIdx) {}

    /** Fires after {@link #testStep} with what it returned. */
    public void onTestBatchEnd(Object outputs, Batch batch, int batchIdx, int dataloaderIdx) {}

    /** Puts the module in evaluation mode before testing. */
    public void onTestModelEval() {
        eval();
    }

    /** Puts the module back in training mode after testing. */
    public void onTestModelTrain() {
        train();
    }

    /** Fires when a predict run begins. */
    public void onPredictStart() {}

    /** Fires when a predict run ends. */
    public void onPredictEnd() {}

    /** Fires at the start of the predict epoch. */
    public void onPredictEpochStart() {}

    /** Fires at the end of the predict epoch. */
    public void onPredictEpochEnd() {}

    /** Fires before {@link #predictStep}. */
    public void onPredictBatchStart(Batch batch, int batchIdx, int dataloaderIdx) {}

    /** Fires after {@link #predictStep} with what it returned. */
    public void onPredictBatchEnd(Object outputs, Batch batch, int batchIdx, int dataloaderIdx) {}

    /** Puts the module in evaluation mode before prediction. */
    public void onPredictModelEval() {
        eval();
    }

    // ------------------------------------------------------------------ optimization hooks

    /** Fires before the backward pass of {@code loss}. */
    public void onBeforeBackward(NDArray loss) {}

    /**
     * Computes the gradients of the loss; override to customise (Lightning's {@code backward}).
     *
     * @param loss the scalar loss
     */
    public void backward(NDArray loss) {
        getTrainer().runBackward(loss);
    }

    /** Fires after the backward pass; gradients are available. */
    public void onAfterBackward() {}

    /** Fires before the optimizer steps, before gradient clipping. */
    public void onBeforeOptimizerStep(Optimizer optimizer) {}

    /** Fires before the gradients are zeroed. */
    public void onBeforeZeroGrad(Optimizer optimizer) {}

    /**
     * Steps the optimizer; the closure runs the training step and backward. Override to change the learning rate by
     * hand (warm-up) or to skip steps; always call {@code optimizer.step(closure)} (or run the closure) exactly once.
     *
     * @param epoch the current epoch
     * @param batchIdx the batch index within the epoch
     * @param optimizer the optimizer, wrapped
     * @param closure the training step and backward
     */
    public void optimizerStep(int epoch, int batchIdx, LightningOptimizer optimizer, Runnable closure) {
        optimizer.step(closure);
    }

    /**
     * Zeroes the gradients before the backward pass of the first batch of each accumulation window.
     *
     * @param epoch the current epoch
     * @param batchIdx the batch index within the epoch
     * @param optimizer the optimizer
     */
    public void optimizerZeroGrad(int epoch, int batchIdx, Optimizer optimizer) {
        optimizer.zeroGrad();
    }

    /**
     * Clips the gradients as the Trainer is configured to; override for a custom clipping rule.
     *
     * @param optimizer the optimizer whose parameters are clipped
     * @param gradientClipVal the Trainer's {@code gradientClipVal}, or null
     * @param algorithm the Trainer's {@code gradientClipAlgorithm}
     */
    public void configureGradientClipping(
            Optimizer optimizer, Double gradientClipVal, GradientClipAlgorithm algorithm) {
        clipGradients(optimizer, gradientClipVal, algorithm);
    }

    /**
     * Clips the gradients of the optimizer's parameters by norm or by value; nothing when the value is null or not
     * positive.
     *
     * @param optimizer the optimizer
     * @param gradientClipVal the limit
     * @param algorithm norm or value
     */
    public void clipGradients(Optimizer optimizer, Double gradientClipVal, GradientClipAlgorithm algorithm) {
        if (trainer != null) {
            trainer.clipGradients(optimizer, gradientClipVal, algorithm);
        } else {
            GradientClipAlgorithm.apply(optimizer, gradientClipVal, algorithm);
        }
    }

    /**
     * Steps a learning-rate scheduler; override for schedulers that need other arguments.
     *
     * @param scheduler the scheduler
     * @param metric the monitored value for plateau schedulers, else null
     */
    public void lrSchedulerStep(LrScheduler scheduler, Double metric) {
        if (metric == null) {
            scheduler.step();
        } else {
            scheduler.step(metric);
        }
    }

    // ------------------------------------------------------------------ checkpoint hooks

    /** Adds to or changes a checkpoint being written; runs after the callbacks'. */
    public void onSaveCheckpoint(Checkpoint checkpoint) {}

    /** Reads a checkpoint being restored, before the weights are loaded. */
    public void onLoadCheckpoint(Checkpoint checkpoint) {}
}
