package io.github.djllightning.loop;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.engine.EngineException;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.training.GradientCollector;
import io.github.djllightning.log.MetricsConnector;
import io.github.djllightning.module.LightningDataModule;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.optim.Optimizer;
import io.github.djllightning.optim.SchedulerConfig;
import io.github.djllightning.trainer.Hook;
import io.github.djllightning.trainer.LightningOptimizer;
import io.github.djllightning.trainer.Trainer;
import io.github.djllightning.trainer.TrainerConfig;
import io.github.djllightning.util.EngineFields;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;

/**
 * What the loops share during one {@code fit}, {@code validate}, {@code test} or {@code predict}: the module, the
 * callbacks, the data sources, the optimizers and the metrics. Created by the Trainer for each run.
 */
public final class RunContext {

    final Trainer trainer;
    final TrainerConfig config;
    final LightningModule module;
    final LightningDataModule datamodule;
    final Hooks hooks;
    final MetricsConnector metrics;
    final NDManager batchRoot;
    final DataSource train;
    final DataSource val;
    final DataSource test;
    final DataSource predict;
    List<Optimizer> optimizers = List.of();
    List<LightningOptimizer> lightningOptimizers = List.of();
    List<SchedulerConfig> schedulers = List.of();
    private GradientCollector collector;
    private boolean backwardSinceZeroGrad;
    private boolean inBeforeBackward;
    private boolean backwardSkipped;
    private final List<Parameter> parameters;
    /** The parameter arrays lent to the batch in flight, and the managers they go back to. */
    private final List<NDArray> lent = new ArrayList<>();
    private final List<NDManager> owners = new ArrayList<>();

    /**
     * Creates the context of a run.
     *
     * @param trainer the Trainer
     * @param module the module
     * @param datamodule the data module, or null
     * @param hooks the hook dispatcher
     * @param metrics the metrics connector
     * @param batchRoot the manager under which each batch gets its own manager
     * @param sources the train, val, test and predict sources, in that order
     */
    public RunContext(
            Trainer trainer,
            LightningModule module,
            LightningDataModule datamodule,
            Hooks hooks,
            MetricsConnector metrics,
            NDManager batchRoot,
            DataSource... sources) {
        this.trainer = trainer;
        this.config = trainer.config();
        this.module = module;
        this.datamodule = datamodule;
        this.hooks = hooks;
        this.metrics = metrics;
        this.batchRoot = batchRoot;
        this.train = sources[0];
        this.val = sources[1];
        this.test = sources[2];
        this.predict = sources[3];
        this.parameters = module.parameters();
    }

    /**
     * Lends the module's parameter arrays to a step's manager until {@link #returnParameters()}, which the loops call
     * when the batch ends. DJL puts the result of an operation in the manager of its first operand, so without this a
     * step computing {@code w.matMul(x)} or an L2 penalty from a parameter would leave its results in the parameters'
     * manager, growing every step; lent, they belong to the step and are freed with it.
     *
     * <p>A lent array only points to the step's manager: it stays registered with its own manager and the step's
     * manager does not hold it, so closing the step frees the step's results and never the parameter. DJL's {@code
     * tempAttach} gives the same, but moves every parameter between the two managers' maps and back on every step
     * (measured: about 1.7 us a step for eight tensors, a tenth of the Trainer's cost per step); it is used where the
     * engine's array class does not let the pointer be set.
     *
     * @param step the manager of the batch in flight
     */
    void lendParameters(NDManager step) {
        returnParameters();
        for (int i = 0; i < parameters.size(); i++) {
            Parameter parameter = parameters.get(i);
            if (!parameter.isInitialized()) {
                continue;
            }
            NDArray array = parameter.getArray();
            if (!pointTo(array, step)) {
                array.tempAttach(step);
            }
        }
    }

    /** Points the arrays lent by {@link #lendParameters} back to their own managers. */
    void returnParameters() {
        for (int i = lent.size() - 1; i >= 0; i--) {
            setManager(lent.get(i), owners.get(i));
        }
        lent.clear();
        owners.clear();
    }

    private boolean pointTo(NDArray array, NDManager step) {
        if (MANAGER == null || !(array instanceof PtNDArray) || !(step instanceof PtNDManager)) {
            return false;
        }
        NDManager owner = array.getManager();
        setManager(array, step);
        lent.add(array);
        owners.add(owner);
        return true;
    }

    private static void setManager(NDArray array, NDManager manager) {
        try {
            MANAGER.set(array, manager);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException("cannot set the manager of a parameter array", e);
        }
    }

    /** The field of a PyTorch array that holds its manager, or null where this DJL has none to set. */
    private static final Field MANAGER = EngineFields.find(PtNDArray.class, "manager", PtNDManager.class);

    /** The module. */
    public LightningModule module() {
        return module;
    }

    /** The hook dispatcher. */
    public Hooks hooks() {
        return hooks;
    }

    /** The validation source. */
    public DataSource val() {
        return val;
    }

    /** The training source. */
    public DataSource train() {
        return train;
    }

    /** The test source. */
    public DataSource test() {
        return test;
    }

    /** The prediction source. */
    public DataSource predict() {
        return predict;
    }

    /** The optimizers of the run (fit only). */
    public List<Optimizer> optimizers() {
        return optimizers;
    }

    /** The optimizers as the module sees them. */
    public List<LightningOptimizer> lightningOptimizers() {
        return lightningOptimizers;
    }

    /** The schedulers of the run. */
    public List<SchedulerConfig> schedulers() {
        return schedulers;
    }

    /**
     * Sets the optimizers and schedulers from {@code configureOptimizers}.
     *
     * @param optimizers the optimizers
     * @param wrapped the same, wrapped for the module
     * @param schedulers the scheduler configurations
     */
    public void setOptimizers(
            List<Optimizer> optimizers, List<LightningOptimizer> wrapped, List<SchedulerConfig> schedulers) {
        this.optimizers = optimizers;
        this.lightningOptimizers = wrapped;
        this.schedulers = schedulers;
    }

    /** Opens the gradient recording for a training step; only one may be open in the process. */
    GradientCollector openCollector() {
        collector = Engine.getInstance().newGradientCollector();
        return collector;
    }

    void closeCollector() {
        if (collector != null) {
            GradientCollector open = collector;
            collector = null;
            open.close();
        }
    }

    /**
     * Runs the backward pass of a loss; called from {@code LightningModule.backward}.
     *
     * @param loss a scalar loss
     */
    public void backward(NDArray loss) {
        if (collector == null) {
            throw new IllegalStateException(
                    "backward was called outside of a training step; call it (or manualBackward) from trainingStep.");
        }
        if (loss.size() != 1) {
            throw new IllegalArgumentException(
                    "backward needs a scalar loss (one element), got shape " + loss.getShape()
                            + ". Reduce it first, e.g. loss.mean().");
        }
        try {
            collector.backward(loss);
        } catch (EngineException e) {
            if (String.valueOf(e.getMessage()).contains("does not require grad")) {
                throw new IllegalArgumentException(
                        "The loss does not depend on any trainable parameter, so it has no gradient. Compute it with"
                                + " the module's layers (forward(\"name\", x)) and check that not all parameters are"
                                + " frozen.", e);
            }
            throw e;
        }
        backwardSinceZeroGrad = true;
    }

    /**
     * Fires the {@code onBeforeBackward} hooks of the callbacks and then the module for a loss, and says whether its
     * backward pass should run: not when one of them called {@link Trainer#skipBackward()}.
     *
     * @param loss the loss about to be backpropagated
     * @return true to run the backward pass and the {@code onAfterBackward} hooks
     */
    public boolean beforeBackward(NDArray loss) {
        backwardSkipped = false;
        inBeforeBackward = true;
        try {
            if (hooks.anyCallback(Hook.ON_BEFORE_BACKWARD)) {
                hooks.callbacks(Hook.ON_BEFORE_BACKWARD, c -> c.onBeforeBackward(trainer, module, loss));
            }
            if (hooks.moduleCalls(Hook.ON_BEFORE_BACKWARD)) {
                hooks.module(Hook.ON_BEFORE_BACKWARD, () -> module.onBeforeBackward(loss));
            }
        } finally {
            inBeforeBackward = false;
        }
        return !backwardSkipped;
    }

    /**
     * Cancels the backward pass whose {@code onBeforeBackward} hooks are running.
     *
     * @throws IllegalStateException outside of {@code onBeforeBackward}
     */
    public void skipBackward() {
        if (!inBeforeBackward) {
            throw new IllegalStateException("skipBackward() cancels the backward pass of the loss given to"
                    + " onBeforeBackward; call it from an onBeforeBackward hook.");
        }
        backwardSkipped = true;
    }

    /** Records that the gradients were zeroed: until the next backward there is nothing to step with. */
    void gradientsZeroed() {
        backwardSinceZeroGrad = false;
    }

    /**
     * Whether a backward pass ran since the gradients were last zeroed; torch's optimizers skip a step without one
     * (its {@code zero_grad} leaves no gradient at all).
     */
    boolean hasFreshGradients() {
        return backwardSinceZeroGrad;
    }
}
