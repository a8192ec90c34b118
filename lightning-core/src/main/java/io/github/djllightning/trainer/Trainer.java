package io.github.djllightning.trainer;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.github.djllightning.callback.Callback;
import io.github.djllightning.checkpoint.Checkpoint;
import io.github.djllightning.checkpoint.CheckpointWriter;
import io.github.djllightning.checkpoint.Checkpoints;
import io.github.djllightning.callback.ModelCheckpoint;
import io.github.djllightning.callback.ProgressBar;
import io.github.djllightning.data.DataLoader;
import io.github.djllightning.log.CsvLogger;
import io.github.djllightning.log.DefaultLoggerProvider;
import io.github.djllightning.log.DummyLogger;
import io.github.djllightning.log.Logger;
import io.github.djllightning.log.MetricsConnector;
import io.github.djllightning.loop.ConfigurationValidator;
import io.github.djllightning.loop.DataSource;
import io.github.djllightning.loop.EvaluationLoop;
import io.github.djllightning.loop.FitLoop;
import io.github.djllightning.loop.Hooks;
import io.github.djllightning.loop.PredictionLoop;
import io.github.djllightning.loop.RunContext;
import io.github.djllightning.module.LightningDataModule;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.optim.LrScheduler;
import io.github.djllightning.optim.Optimizer;
import io.github.djllightning.optim.OptimizerConfig;
import io.github.djllightning.optim.SchedulerConfig;
import io.github.djllightning.profile.Profiler;
import io.github.djllightning.util.Denormals;
import io.github.djllightning.util.EngineSetup;
import io.github.djllightning.util.ScalarCache;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.function.Function;
import org.slf4j.LoggerFactory;

/**
 * Runs a {@link LightningModule}: the training loop with validation, checkpoints, logging and progress display
 * ({@link #fit}), evaluation ({@link #validate}, {@link #test}) and inference ({@link #predict}). Lightning's {@code
 * Trainer}.
 *
 * <pre>{@code
 * Trainer trainer = Trainer.builder().maxEpochs(1).limitTrainBatches(100).build();
 * trainer.fit(new LitAutoEncoder(encoder, decoder), trainLoader);
 * }</pre>
 *
 * <p>A Trainer is configured once ({@link TrainerConfig}) and may run several times; one run at a time, on the
 * calling thread.
 */
public final class Trainer {

    private static final org.slf4j.Logger LOG = LoggerFactory.getLogger(Trainer.class);

    private final TrainerConfig config;
    private final Device device;
    private final List<Logger> loggers;
    private final FitLoop fitLoop = new FitLoop();
    private final EvaluationLoop validateLoop = new EvaluationLoop(RunningStage.VALIDATE, true);
    private final EvaluationLoop testLoop = new EvaluationLoop(RunningStage.TEST, true);
    private final PredictionLoop predictLoop = new PredictionLoop();
    private final MetricsConnector metrics = new MetricsConnector();
    private TrainerStatus status = TrainerStatus.INITIALIZING;
    private TrainerFn fn;
    private RunningStage stage;
    private boolean shouldStop;
    private String stopReason;
    private LightningModule module;
    private LightningDataModule datamodule;
    private final List<Callback> baseCallbacks;
    private List<Callback> callbacks = List.of();
    private RunContext ctx;
    private ScalarCache scalars;
    private int accumulateGradBatches;
    private long trainStartNanos;
    /** Training time not counted by the running clock: the runs before a resume, and finished training. */
    private long restoredTrainingNanos;
    private List<Optimizer> lastOptimizers = List.of();
    private List<SchedulerConfig> lastSchedulers = List.of();
    private LightningModule lastFitModule;
    private Long runSeed;
    private volatile String interruptSignal;
    private volatile boolean interruptFromSignal;
    /** Whether the profiler was set up for the running stage and not torn down yet. */
    private boolean profilerOpen;

    /**
     * Creates a Trainer.
     *
     * @param config the configuration
     */
    public Trainer(TrainerConfig config) {
        this.config = config;
        this.accumulateGradBatches = config.optimization().accumulateGradBatches();
        this.loggers = resolveLoggers(config);
        checkAccelerator(config);
        this.device = resolveDevice(config.hardware().accelerator());
        this.baseCallbacks = CallbackResolver.withDefaults(config);
        this.callbacks = baseCallbacks;
    }

    /** Creates a Trainer with Lightning's defaults. */
    public Trainer() {
        this(TrainerConfig.defaults());
    }

    /** A builder of Trainers, with Lightning's defaults; {@code build()} validates every flag. */
    public static TrainerConfig.Builder<Trainer> builder() {
        return new TrainerConfig.Builder<>(Trainer::new);
    }

    private static List<Logger> resolveLoggers(TrainerConfig config) {
        List<Logger> resolved = new ArrayList<>(config.output().loggers());
        if (resolved.isEmpty() && config.output().logger()) {
            resolved.add(defaultLogger(config.output().defaultRootDir()));
        }
        if (config.fastDevRun() > 0 && !resolved.isEmpty()) {
            LOG.info("Running in fastDevRun mode: {} batch(es) per loop; logging and checkpointing are suppressed.",
                    config.fastDevRun());
            return List.of(new DummyLogger());
        }
        return Collections.unmodifiableList(resolved);
    }

    private static Logger defaultLogger(Path root) {
        DefaultLoggerProvider best = null;
        for (DefaultLoggerProvider provider : ServiceLoader.load(DefaultLoggerProvider.class)) {
            if (best == null || provider.priority() > best.priority()) {
                best = provider;
            }
        }
        return best != null && best.priority() > 0 ? best.create(root) : new CsvLogger(root);
    }

    private static void checkAccelerator(TrainerConfig config) {
        String accelerator = config.hardware().accelerator();
        if ("mps".equals(accelerator) || "tpu".equals(accelerator)) {
            throw new MisconfigurationException(
                    "accelerator '" + accelerator + "' is not available with DJL's PyTorch engine; use \"cpu\","
                            + " \"gpu\" or \"auto\".");
        }
        String precision = config.hardware().precision();
        if (!"32-true".equals(precision) && !"32".equals(precision)) {
            throw new MisconfigurationException(
                    "precision '" + precision + "' is not supported by DJL's PyTorch engine yet (it has no autocast"
                            + " or gradient scaler, and bfloat16 tensors abort it); use precision(\"32-true\").");
        }
        if (config.hardware().devices() != 1) {
            throw new MisconfigurationException(
                    "devices(" + config.hardware().devices() + "): training on several devices is not available yet;"
                            + " use devices(1).");
        }
    }

    private static Device resolveDevice(String accelerator) {
        if ("cpu".equals(accelerator)) {
            return Device.cpu();
        }
        int gpus = EngineSetup.engine().getGpuCount();
        if (gpus > 0) {
            return Device.gpu(0);
        }
        if ("auto".equals(accelerator)) {
            return Device.cpu();
        }
        throw new MisconfigurationException(
                "accelerator '" + accelerator + "' was requested but DJL's PyTorch engine sees no CUDA device (engine "
                        + EngineSetup.engine().getVersion() + "). Put the CUDA natives of the PyTorch engine on the"
                        + " class path instead of pytorch-native-cpu on a machine with an NVIDIA GPU, or use"
                        + " accelerator(\"cpu\").");
    }

    /** The device the Trainer runs the module on. */
    public Device device() {
        return device;
    }

    // ------------------------------------------------------------------ entry points

    /**
     * Trains the module on the loaders its own hooks return.
     *
     * @param module the module
     */
    public void fit(LightningModule module) {
        fit(module, null, null, null, null);
    }

    /**
     * Trains the module on a loader; validation data comes from the module's hooks if it has any.
     *
     * @param module the module
     * @param trainLoader the training loader
     */
    public void fit(LightningModule module, DataLoader trainLoader) {
        fit(module, trainLoader, null, null, null);
    }

    /**
     * Trains the module, validating on a loader.
     *
     * @param module the module
     * @param trainLoader the training loader
     * @param valLoader the validation loader
     */
    public void fit(LightningModule module, DataLoader trainLoader, DataLoader valLoader) {
        fit(module, trainLoader, valLoader == null ? null : List.of(valLoader), null, null);
    }

    /**
     * Trains the module, validating on several loaders one after the other.
     *
     * @param module the module
     * @param trainLoader the training loader
     * @param valLoaders the validation loaders
     */
    public void fit(LightningModule module, DataLoader trainLoader, List<DataLoader> valLoaders) {
        fit(module, trainLoader, valLoaders, null, null);
    }

    /**
     * Trains the module on the data of a data module.
     *
     * @param module the module
     * @param datamodule the data module
     */
    public void fit(LightningModule module, LightningDataModule datamodule) {
        fit(module, null, null, datamodule, null);
    }

    /**
     * Resumes training of the module on the loaders its own hooks return.
     *
     * @param module the module (a new instance is fine: its weights come from the checkpoint)
     * @param ckptPath a {@code .ckpt} file, {@code "last"} or {@code "best"}; null starts from scratch
     */
    public void fit(LightningModule module, String ckptPath) {
        fit(module, null, null, null, ckptPath);
    }

    /**
     * Resumes training from a checkpoint, without validation data (unless the module's hooks give some).
     *
     * @param module the module (a new instance is fine: its weights come from the checkpoint)
     * @param trainLoader the training loader (the same data and order as the run that saved the checkpoint)
     * @param ckptPath a {@code .ckpt} file, {@code "last"} or {@code "best"}; null starts from scratch
     */
    public void fit(LightningModule module, DataLoader trainLoader, String ckptPath) {
        fit(module, trainLoader, null, null, ckptPath);
    }

    /**
     * Resumes training from a checkpoint: weights, optimizers, schedulers, loops, callbacks, data module, data position
     * and random numbers are restored, and training continues exactly where the checkpoint was written (in the same
     * epoch at the next batch, or at the next epoch).
     *
     * @param module the module (a new instance is fine: its weights come from the checkpoint)
     * @param trainLoader the training loader (the same data and order as the run that saved the checkpoint)
     * @param valLoader the validation loader, or null
     * @param ckptPath a {@code .ckpt} file, {@code "last"} (the newest {@code last*.ckpt} in the checkpoint folder) or
     *     {@code "best"}; null starts from scratch
     */
    public void fit(LightningModule module, DataLoader trainLoader, DataLoader valLoader, String ckptPath) {
        fit(module, trainLoader, valLoader == null ? null : List.of(valLoader), null, ckptPath);
    }

    /**
     * Resumes training from a checkpoint, validating on several loaders.
     *
     * @param module the module
     * @param trainLoader the training loader
     * @param valLoaders the validation loaders
     * @param ckptPath a {@code .ckpt} file, {@code "last"} or {@code "best"}; null starts from scratch
     */
    public void fit(LightningModule module, DataLoader trainLoader, List<DataLoader> valLoaders, String ckptPath) {
        fit(module, trainLoader, valLoaders, null, ckptPath);
    }

    /**
     * Resumes training on the data of a data module from a checkpoint (the data module's state is restored too).
     *
     * @param module the module
     * @param datamodule the data module
     * @param ckptPath a {@code .ckpt} file, {@code "last"} or {@code "best"}; null starts from scratch
     */
    public void fit(LightningModule module, LightningDataModule datamodule, String ckptPath) {
        fit(module, null, null, datamodule, ckptPath);
    }

    private void fit(
            LightningModule module,
            DataLoader train,
            List<DataLoader> val,
            LightningDataModule datamodule,
            String ckptPath) {
        if (datamodule != null && (train != null || val != null)) {
            throw new MisconfigurationException(
                    "fit takes loaders or a LightningDataModule, not both: the data module gives all the data.");
        }
        if (status == TrainerStatus.RUNNING) {
            throw new IllegalStateException("This Trainer is already running; a Trainer runs one fit/validate/test/"
                    + "predict at a time.");
        }
        shouldStop = false;
        stopReason = null;
        interruptSignal = null;
        interruptFromSignal = false;
        restoredTrainingNanos = 0;
        trainStartNanos = 0;
        fitLoop.epochLoop().valLoop().resetData();
        try (SignalConnector signals = SignalConnector.register(this)) {
            run(TrainerFn.FIT, module, datamodule, sources(module, datamodule, train, val, null, null), ckptPath,
                    c -> {
                        fitLoop.runSanityCheck(c);
                        trainStartNanos = System.nanoTime();
                        try {
                            fitLoop.run(c);
                        } finally {
                            // the clock stops with training: a checkpoint saved after fit keeps the time trained
                            restoredTrainingNanos += System.nanoTime() - trainStartNanos;
                            trainStartNanos = 0;
                        }
                        return null;
                    });
        }
        String late = interruptSignal;
        if (late != null && interruptFromSignal) {
            SignalConnector.redeliver(late);
        }
        interruptSignal = null;
        interruptFromSignal = false;
    }

    /**
     * Validates the module on the loaders its own hooks return.
     *
     * @param module the module
     * @return per loader, the metrics logged in validation
     */
    public List<Map<String, Double>> validate(LightningModule module) {
        return validate(module, (List<DataLoader>) null);
    }

    /**
     * Validates the module on loaders.
     *
     * @param module the module
     * @param loaders the validation loaders
     * @return per loader, the metrics logged in validation (also printed as a table)
     */
    public List<Map<String, Double>> validate(LightningModule module, DataLoader... loaders) {
        return validate(module, Arrays.asList(loaders));
    }

    /**
     * Validates the module on loaders.
     *
     * @param module the module
     * @param loaders the validation loaders, or null for the module's own
     * @return per loader, the metrics logged in validation
     */
    public List<Map<String, Double>> validate(LightningModule module, List<DataLoader> loaders) {
        return evaluate(TrainerFn.VALIDATE, module, null, loaders, null);
    }

    /**
     * Validates the module with the weights of a checkpoint.
     *
     * @param module the module (its weights are replaced by the checkpoint's)
     * @param loaders the validation loaders, or null for the module's own
     * @param ckptPath a {@code .ckpt} file, {@code "last"} or {@code "best"} (of this Trainer's checkpoint callback)
     * @return per loader, the metrics logged in validation
     */
    public List<Map<String, Double>> validate(LightningModule module, List<DataLoader> loaders, String ckptPath) {
        return evaluate(TrainerFn.VALIDATE, module, null, loaders, ckptPath);
    }

    /**
     * Validates the module on the validation data of a data module.
     *
     * @param module the module
     * @param datamodule the data module
     * @return per loader, the metrics logged in validation
     */
    public List<Map<String, Double>> validate(LightningModule module, LightningDataModule datamodule) {
        return evaluate(TrainerFn.VALIDATE, module, datamodule, null, null);
    }

    /**
     * Tests the module on the loaders its own hooks return.
     *
     * @param module the module
     * @return per loader, the metrics logged in test
     */
    public List<Map<String, Double>> test(LightningModule module) {
        return test(module, (List<DataLoader>) null);
    }

    /**
     * Tests the module on loaders.
     *
     * @param module the module
     * @param loaders the test loaders
     * @return per loader, the metrics logged in test (also printed as a table)
     */
    public List<Map<String, Double>> test(LightningModule module, DataLoader... loaders) {
        return test(module, Arrays.asList(loaders));
    }

    /**
     * Tests the module on loaders.
     *
     * @param module the module
     * @param loaders the test loaders, or null for the module's own
     * @return per loader, the metrics logged in test
     */
    public List<Map<String, Double>> test(LightningModule module, List<DataLoader> loaders) {
        return evaluate(TrainerFn.TEST, module, null, loaders, null);
    }

    /**
     * Tests the module with the weights of a checkpoint, e.g. {@code trainer.test(module, loaders, "best")} after fit.
     *
     * @param module the module (its weights are replaced by the checkpoint's)
     * @param loaders the test loaders, or null for the module's own
     * @param ckptPath a {@code .ckpt} file, {@code "last"} or {@code "best"} (of this Trainer's checkpoint callback)
     * @return per loader, the metrics logged in test
     */
    public List<Map<String, Double>> test(LightningModule module, List<DataLoader> loaders, String ckptPath) {
        return evaluate(TrainerFn.TEST, module, null, loaders, ckptPath);
    }

    /**
     * Tests the module on the test data of a data module.
     *
     * @param module the module
     * @param datamodule the data module
     * @return per loader, the metrics logged in test
     */
    public List<Map<String, Double>> test(LightningModule module, LightningDataModule datamodule) {
        return evaluate(TrainerFn.TEST, module, datamodule, null, null);
    }

    /**
     * Validates the module on the validation data of a data module (or, when it is null, of the module's own hooks)
     * with the weights of a checkpoint.
     *
     * @param module the module (its weights are replaced by the checkpoint's)
     * @param datamodule the data module, or null for the module's own loaders
     * @param ckptPath a {@code .ckpt} file, {@code "last"} or {@code "best"}; null keeps the module's weights
     * @return per loader, the metrics logged in validation
     */
    public List<Map<String, Double>> validate(LightningModule module, LightningDataModule datamodule, String ckptPath) {
        return evaluate(TrainerFn.VALIDATE, module, datamodule, null, ckptPath);
    }

    /**
     * Tests the module on the test data of a data module (or, when it is null, of the module's own hooks) with the
     * weights of a checkpoint.
     *
     * @param module the module (its weights are replaced by the checkpoint's)
     * @param datamodule the data module, or null for the module's own loaders
     * @param ckptPath a {@code .ckpt} file, {@code "last"} or {@code "best"}; null keeps the module's weights
     * @return per loader, the metrics logged in test
     */
    public List<Map<String, Double>> test(LightningModule module, LightningDataModule datamodule, String ckptPath) {
        return evaluate(TrainerFn.TEST, module, datamodule, null, ckptPath);
    }

    @SuppressWarnings("unchecked")
    private List<Map<String, Double>> evaluate(
            TrainerFn evalFn,
            LightningModule module,
            LightningDataModule datamodule,
            List<DataLoader> loaders,
            String ckptPath) {
        boolean testing = evalFn == TrainerFn.TEST;
        EvaluationLoop loop = testing ? testLoop : validateLoop;
        loop.resetData();
        DataSource[] sources = testing
                ? sources(module, datamodule, null, null, loaders, null)
                : sources(module, datamodule, null, loaders, null, null);
        return (List<Map<String, Double>>) run(evalFn, module, datamodule, sources, ckptPath, c -> loop.run(c, false));
    }

    /**
     * Predicts with the module on a loader, keeping the predictions.
     *
     * @param module the module
     * @param loader the loader
     * @return the prediction of each batch; its arrays live in a sub-manager of the module's manager, freed by {@code
     *     module.close()} (or close them yourself when done with them)
     */
    public List<Object> predict(LightningModule module, DataLoader loader) {
        List<List<Object>> all = predict(module, List.of(loader), true);
        return all.isEmpty() ? List.of() : all.get(0);
    }

    /**
     * Predicts with the module on the loaders its own hooks (or a data module) return.
     *
     * @param module the module
     * @param datamodule the data module, or null for the module's own hooks
     * @return per loader, the prediction of each batch
     */
    public List<List<Object>> predict(LightningModule module, LightningDataModule datamodule) {
        return predictRun(module, datamodule, null, true, null);
    }

    /**
     * Predicts with the module on the prediction data of a data module (or, when it is null, of the module's own
     * hooks) with the weights of a checkpoint, keeping the predictions.
     *
     * @param module the module (its weights are replaced by the checkpoint's)
     * @param datamodule the data module, or null for the module's own loaders
     * @param ckptPath a {@code .ckpt} file, {@code "last"} or {@code "best"}; null keeps the module's weights
     * @return per loader, the prediction of each batch
     */
    public List<List<Object>> predict(LightningModule module, LightningDataModule datamodule, String ckptPath) {
        return predictRun(module, datamodule, null, true, ckptPath);
    }

    /**
     * Predicts with the module on loaders.
     *
     * @param module the module
     * @param loaders the loaders
     * @param returnPredictions false to discard predictions (when a callback writes them), keeping memory flat
     * @return per loader, the prediction of each batch (empty lists when not returned)
     */
    public List<List<Object>> predict(LightningModule module, List<DataLoader> loaders, boolean returnPredictions) {
        return predictRun(module, null, loaders, returnPredictions, null);
    }

    /**
     * Predicts with the weights of a checkpoint.
     *
     * @param module the module (its weights are replaced by the checkpoint's)
     * @param loaders the loaders
     * @param returnPredictions false to discard predictions (when a callback writes them)
     * @param ckptPath a {@code .ckpt} file, {@code "last"} or {@code "best"}
     * @return per loader, the prediction of each batch (empty lists when not returned)
     */
    public List<List<Object>> predict(
            LightningModule module, List<DataLoader> loaders, boolean returnPredictions, String ckptPath) {
        return predictRun(module, null, loaders, returnPredictions, ckptPath);
    }

    @SuppressWarnings("unchecked")
    private List<List<Object>> predictRun(
            LightningModule module,
            LightningDataModule datamodule,
            List<DataLoader> loaders,
            boolean keep,
            String ckptPath) {
        DataSource[] sources = sources(module, datamodule, null, null, null, loaders);
        return (List<List<Object>>) run(TrainerFn.PREDICT, module, datamodule, sources, ckptPath, c -> {
            NDManager kept = keep ? module.parameterManager().newSubManager() : null;
            if (kept != null) {
                kept.setName("predictions");
            }
            return predictLoop.run(c, kept);
        });
    }

    private static DataSource[] sources(
            LightningModule module,
            LightningDataModule datamodule,
            DataLoader train,
            List<DataLoader> val,
            List<DataLoader> test,
            List<DataLoader> predict) {
        return new DataSource[] {
            new DataSource(DataSource.Kind.TRAIN, train == null ? null : List.of(train), datamodule, module),
            new DataSource(DataSource.Kind.VAL, val, datamodule, module),
            new DataSource(DataSource.Kind.TEST, test, datamodule, module),
            new DataSource(DataSource.Kind.PREDICT, predict, datamodule, module)
        };
    }

    // ------------------------------------------------------------------ the run

    private Object run(
            TrainerFn runFn,
            LightningModule runModule,
            LightningDataModule runDatamodule,
            DataSource[] sources,
            String ckptPath,
            Function<RunContext, Object> stageBody) {
        if (status == TrainerStatus.RUNNING) {
            throw new IllegalStateException("This Trainer is already running; a Trainer runs one fit/validate/test/"
                    + "predict at a time.");
        }
        if (runModule == null) {
            throw new IllegalArgumentException(runFn + " needs a LightningModule, got null.");
        }
        boolean flushDenormals = config.hardware().flushDenormals();
        if (flushDenormals) {
            Denormals.enter();
        }
        try {
            return execute(runFn, runModule, runDatamodule, sources, ckptPath, stageBody);
        } finally {
            if (flushDenormals) {
                Denormals.exit();
            }
        }
    }

    private Object execute(
            TrainerFn runFn,
            LightningModule runModule,
            LightningDataModule runDatamodule,
            DataSource[] sources,
            String ckptPath,
            Function<RunContext, Object> stageBody) {
        prepareEngine();
        fn = runFn;
        stage = initialStage(runFn);
        status = TrainerStatus.RUNNING;
        module = runModule;
        datamodule = runDatamodule;
        module.attachTrainer(this);
        module.useDevice(device);
        NDManager runManager = module.parameterManager().newSubManager();
        runManager.setName("trainer-run");
        NDManager batchRoot = runManager.newSubManager();
        batchRoot.setName("batches");
        NDManager metricsManager = runManager.newSubManager();
        metricsManager.setName("metrics");
        metrics.start(metricsManager);
        metrics.setLoggers(loggers);
        scalars = new ScalarCache(runManager);
        callbacks = CallbackResolver.forRun(baseCallbacks, module);
        Hooks hooks = new Hooks(this, module, callbacks, metrics, config.profiler());
        ctx = new RunContext(this, module, datamodule, hooks, metrics, batchRoot, sources);
        Object result;
        try {
            result = runStages(runFn, hooks, ckptPath, stageBody);
            status = TrainerStatus.FINISHED;
        } catch (RuntimeException | Error e) {
            interrupt(e);
            if (profilerOpen) {
                profilerOpen = false;
                try {
                    // a failed run still ends its profiling (a recording, the engine's profiling session)
                    config.profiler().teardown(runFn.toString());
                } catch (RuntimeException secondary) {
                    e.addSuppressed(secondary);
                }
            }
            release(runManager, e);
            throw e;
        }
        release(runManager, null);
        return result;
    }

    /** Frees the run's memory; a failure here never hides the failure that ended the run. */
    private void release(NDManager runManager, Throwable failure) {
        try {
            metrics.teardown();
        } catch (RuntimeException e) {
            if (failure == null) {
                throw e;
            }
            failure.addSuppressed(e);
        } finally {
            runManager.close();
            ctx = null;
        }
    }

    private Object runStages(
            TrainerFn runFn, Hooks hooks, String ckptPath, Function<RunContext, Object> stageBody) {
        ConfigurationValidator.verify(ctx, runFn);
        config.profiler().setup(runFn.toString(), logDir());
        profilerOpen = true;
        if (datamodule != null) {
            hooks.module(Hook.PREPARE_DATA, datamodule::prepareData);
        }
        hooks.module(Hook.PREPARE_DATA, module::prepareData);
        if (datamodule != null) {
            hooks.module(Hook.SETUP, () -> datamodule.setup(runFn));
        }
        hooks.callbacks(Hook.SETUP, c -> c.setup(this, module, runFn));
        hooks.module(Hook.SETUP, () -> module.setup(runFn));
        hooks.module(Hook.CONFIGURE_MODEL, module::configureModel);
        runSeed = config.hardware().seed();
        Path checkpointFile = ckptPath == null ? null : CheckpointConnector.resolve(ckptPath, callbacks);
        try (NDManager restoreScope = checkpointFile == null ? null : module.parameterManager().newSubManager()) {
            Checkpoint restored = checkpointFile == null
                    ? null
                    : CheckpointConnector.restoreModule(this, checkpointFile, restoreScope, hooks,
                            runFn == TrainerFn.FIT);
            metrics.resetResults();
            metrics.resetMetrics();
            if (runFn == TrainerFn.FIT) {
                if (restored != null) {
                    Long saved = CheckpointConnector.savedSeed(restored);
                    if (runSeed == null) {
                        runSeed = saved;
                    } else if (saved != null && !saved.equals(runSeed)) {
                        LOG.warn("The checkpoint's run used seed {} and this Trainer uses seed {}: the resumed run"
                                + " draws other random numbers than the interrupted one would have.", saved, runSeed);
                    }
                }
                configureOptimizers(hooks);
                fitLoop.attach(ctx);
                hooks.both(Hook.ON_FIT_START, c -> c.onFitStart(this, module), module::onFitStart);
            }
            logHyperparams();
            // as in Lightning, the loops, optimizers and schedulers come back after on_fit_start
            if (restored != null && runFn == TrainerFn.FIT) {
                CheckpointConnector.restoreTraining(this, restored);
            }
        }
        Object result = stageBody.apply(ctx);
        if (runFn == TrainerFn.FIT) {
            hooks.both(Hook.ON_FIT_END, c -> c.onFitEnd(this, module), module::onFitEnd);
        }
        if (datamodule != null) {
            hooks.module(Hook.TEARDOWN, () -> datamodule.teardown(runFn));
        }
        hooks.callbacks(Hook.TEARDOWN, c -> c.teardown(this, module, runFn));
        hooks.module(Hook.TEARDOWN, () -> module.teardown(runFn));
        for (Logger logger : loggers) {
            logger.finish("success");
        }
        profilerOpen = false;
        config.profiler().teardown(runFn.toString());
        return result;
    }

    private void interrupt(Throwable failure) {
        status = TrainerStatus.INTERRUPTED;
        for (Callback callback : callbacks) {
            try {
                metrics.setHook(Hook.ON_EXCEPTION);
                callback.onException(this, module, failure);
            } catch (RuntimeException secondary) {
                failure.addSuppressed(secondary);
            }
        }
        String outcome = failure instanceof TrainingInterruptedException ? "finished" : "failed";
        for (Logger logger : loggers) {
            try {
                logger.finish(outcome);
            } catch (RuntimeException secondary) {
                failure.addSuppressed(secondary);
            }
        }
    }

    private void prepareEngine() {
        EngineSetup.preferOffline();
        if (config.hardware().numThreads() != null) {
            EngineSetup.setThreads(config.hardware().numThreads());
        }
        if (config.hardware().seed() != null) {
            EngineSetup.seedEverything(config.hardware().seed());
        }
        if (config.hardware().deterministic()) {
            EngineSetup.deterministic();
        }
    }

    private static RunningStage initialStage(TrainerFn runFn) {
        switch (runFn) {
            case FIT:
                return RunningStage.TRAIN;
            case VALIDATE:
                return RunningStage.VALIDATE;
            case TEST:
                return RunningStage.TEST;
            default:
                return RunningStage.PREDICT;
        }
    }

    private void configureOptimizers(Hooks hooks) {
        OptimizerConfig optimizerConfig = hooks.moduleValue(Hook.CONFIGURE_OPTIMIZERS, module::configureOptimizers);
        if (optimizerConfig == null) {
            throw new MisconfigurationException(
                    module.getClass().getSimpleName() + ".configureOptimizers() returned null; return e.g."
                            + " OptimizerConfig.of(new Adam(parameters(), 1e-3)).");
        }
        List<Optimizer> optimizers = optimizerConfig.optimizers();
        if (module.isAutomaticOptimization() && optimizers.size() > 1) {
            throw new MisconfigurationException(
                    "Training with " + optimizers.size() + " optimizers needs manual optimization: call"
                            + " setAutomaticOptimization(false) in the constructor of "
                            + module.getClass().getSimpleName() + " and step them in trainingStep.");
        }
        // the previous fit's optimizers are replaced: free their state unless the module hands them out again
        for (Optimizer previous : lastOptimizers) {
            if (!optimizers.contains(previous)) {
                previous.close();
            }
        }
        lastOptimizers = List.copyOf(optimizers);
        lastSchedulers = List.copyOf(optimizerConfig.schedulers());
        lastFitModule = module;
        List<LightningOptimizer> wrapped = new ArrayList<>();
        LightningOptimizer.StepHooks stepHooks = fitLoop.stepHooks();
        for (Optimizer optimizer : optimizers) {
            optimizer.keepStateUnder(module.parameterManager());
            wrapped.add(new LightningOptimizer(optimizer, stepHooks));
        }
        ctx.setOptimizers(lastOptimizers, List.copyOf(wrapped), List.copyOf(optimizerConfig.schedulers()));
    }

    private void logHyperparams() {
        Map<String, Object> params = new LinkedHashMap<>(module.hparams());
        if (params.isEmpty() || fn == TrainerFn.PREDICT) {
            return;
        }
        for (Logger logger : loggers) {
            logger.logHyperparams(params);
            logger.save();
        }
    }

    /**
     * The seed of the current run: the Trainer's seed, or when resuming without one, the seed of the run that wrote
     * the checkpoint. With a seed, the random numbers are reseeded before every training batch from the seed and the
     * batch's number, so a resumed run draws what the uninterrupted run drew.
     *
     * @return the seed, or null for an unseeded run
     */
    public Long runSeed() {
        return runSeed;
    }

    /**
     * Asks the running fit to stop gracefully: at its next training batch boundary it saves a checkpoint ({@code
     * last.ckpt} in the checkpoint folder) and throws {@link TrainingInterruptedException}. SIGTERM and SIGINT do this
     * during a fit. Safe to call from any thread; a second request while one is pending is ignored.
     *
     * @param reason what asks for the stop, e.g. {@code TERM}
     */
    public void requestInterrupt(String reason) {
        if (interruptSignal == null) {
            interruptSignal = reason;
        }
    }

    /** The signal handler's request: like {@link #requestInterrupt}, and passed on if the fit ends first. */
    void interruptBySignal(String signal) {
        if (interruptSignal == null) {
            interruptFromSignal = true;
            interruptSignal = signal;
        }
    }

    /** Whether a graceful stop was requested and has not happened yet. */
    public boolean interruptPending() {
        return interruptSignal != null;
    }

    /**
     * Called by the loops at batch boundaries: when a stop was requested, saves a checkpoint and throws.
     *
     * @throws TrainingInterruptedException after saving, when a stop was requested
     */
    public void checkInterrupt() {
        String signal = interruptSignal;
        if (signal == null || fn != TrainerFn.FIT) {
            return;
        }
        ModelCheckpoint checkpoints = checkpointCallback();
        Path file;
        if (checkpoints != null && checkpoints.dirpath() != null) {
            file = checkpoints.saveLastNow(this);
        } else {
            Path dir = logDir() != null ? logDir() : defaultRootDir();
            file = dir.resolve("checkpoints").resolve(ModelCheckpoint.NAME_LAST + ModelCheckpoint.FILE_EXTENSION);
            saveCheckpoint(file);
        }
        LOG.warn("Training stopped by {} after saving {}.", signal, file);
        interruptSignal = null;
        throw new TrainingInterruptedException(signal, file);
    }

    /**
     * The training time of this fit so far, including that of the runs a resumed fit continues (so {@code maxTime}
     * spans resumes, as Lightning's does).
     *
     * @return the time spent training (the clock runs from the first training batch to the end of training), plus
     *     the restored time; zero before a fit trains
     */
    public java.time.Duration trainingTime() {
        long current = trainStartNanos != 0 ? System.nanoTime() - trainStartNanos : 0;
        return java.time.Duration.ofNanos(restoredTrainingNanos + current);
    }

    /** Sets the training time of the runs before a resume (from a checkpoint). */
    void restoreTrainingTime(java.time.Duration before) {
        restoredTrainingNanos = before.toNanos();
    }

    /** Called after every training batch: enforces maxTime. */
    public void afterTrainBatch() {
        if (config.stopping().maxTime() != null && !shouldStop
                && trainingTime().toNanos() >= config.stopping().maxTime().toNanos()) {
            requestStop("maxTime=" + config.stopping().maxTime() + " reached");
        }
    }

    // ------------------------------------------------------------------ state

    /** The configuration. */
    public TrainerConfig config() {
        return config;
    }

    /** Where the Trainer is in its lifecycle. */
    public TrainerStatus status() {
        return status;
    }

    /** What the current or last run was asked to do. */
    public TrainerFn fn() {
        return fn;
    }

    /** What runs now: training, sanity check, validation, test or prediction. */
    public RunningStage stage() {
        return stage;
    }

    /**
     * Sets the running stage; called by the loops.
     *
     * @param value the stage
     */
    public void setStage(RunningStage value) {
        stage = value;
    }

    /** Whether the sanity-check validation runs now. */
    public boolean isSanityChecking() {
        return stage == RunningStage.SANITY_CHECK;
    }

    /** Whether training batches run now. */
    public boolean isTraining() {
        return stage == RunningStage.TRAIN;
    }

    /** The number of completed training epochs (Lightning's {@code current_epoch}). */
    public int currentEpoch() {
        return (int) fitLoop.epochProgress().current().completed();
    }

    /** The number of optimizer steps taken (Lightning's {@code global_step}). */
    public long globalStep() {
        return fitLoop.epochLoop().globalStep();
    }

    /** Whether a stop was requested; fit stops at the next epoch or batch boundary once minEpochs/minSteps allow. */
    public boolean shouldStop() {
        return shouldStop;
    }

    /** Why the stop was requested, or null. */
    public String stopReason() {
        return stopReason;
    }

    /**
     * Asks fit to stop. A validation run happens first when validation is configured; minEpochs and minSteps are
     * honoured.
     *
     * @param reason why, for the log
     */
    public void requestStop(String reason) {
        if (!shouldStop) {
            LOG.info("Stop requested: {}", reason);
        }
        shouldStop = true;
        stopReason = reason;
    }

    /** The metrics callbacks can monitor: step values during an epoch, epoch values at its end. */
    public Map<String, Double> callbackMetrics() {
        return metrics.callbackMetrics();
    }

    /** The metrics sent (or due) to the loggers. */
    public Map<String, Double> loggedMetrics() {
        return metrics.loggedMetrics();
    }

    /** The metrics logged with {@code progBar(true)}. */
    public Map<String, Double> progressBarMetrics() {
        return metrics.progressBarMetrics();
    }

    /** Whether any metric is shown on the progress bar. */
    public boolean hasProgressBarMetrics() {
        return metrics.hasProgressBarMetrics();
    }

    /** The metrics connector that {@code log(...)} feeds. */
    public MetricsConnector metrics() {
        return metrics;
    }

    /** The loggers. */
    public List<Logger> loggers() {
        return loggers;
    }

    /** The first logger, or null without loggers. */
    public Logger logger() {
        return loggers.isEmpty() ? null : loggers.get(0);
    }

    /** The folder of this run's files: the first logger's log dir, else {@code defaultRootDir}. */
    public Path logDir() {
        Logger first = logger();
        if (first != null && !(first instanceof DummyLogger)) {
            Path dir = first.logDir() != null ? first.logDir() : first.saveDir();
            if (dir != null) {
                return dir;
            }
        }
        return config.output().defaultRootDir();
    }

    /** The root folder for logs and checkpoints. */
    public Path defaultRootDir() {
        return config.output().defaultRootDir();
    }

    /** The callbacks of the current or last run, in calling order (defaults included). */
    public List<Callback> callbacks() {
        return callbacks;
    }

    /** The first ModelCheckpoint of the run, or null. */
    public ModelCheckpoint checkpointCallback() {
        for (Callback callback : callbacks) {
            if (callback instanceof ModelCheckpoint) {
                return (ModelCheckpoint) callback;
            }
        }
        return null;
    }

    /** The progress bar of the run, or null. */
    public ProgressBar progressBar() {
        for (Callback callback : callbacks) {
            if (callback instanceof ProgressBar) {
                return (ProgressBar) callback;
            }
        }
        return null;
    }

    /** The module of the current or last run. */
    public LightningModule lightningModule() {
        return module;
    }

    /** The data module of the current or last run, or null. */
    public LightningDataModule datamodule() {
        return datamodule;
    }

    /** The profiler. */
    public Profiler profiler() {
        return config.profiler();
    }

    /** The fit loop: epoch and batch progress, for callbacks and checkpoints. */
    public FitLoop fitLoop() {
        return fitLoop;
    }

    /** Training batches per epoch after limits; -1 when the loader's length is unknown. */
    public long numTrainingBatches() {
        return fitLoop.numTrainingBatches();
    }

    /** Validation batches per loader for the running fit or validate (after limits), empty before they are known. */
    public List<Long> numValBatches() {
        EvaluationLoop loop = fn == TrainerFn.VALIDATE ? validateLoop : fitLoop.epochLoop().valLoop();
        List<Long> batches = loop.maxBatches();
        return batches == null ? List.of() : batches;
    }

    /** Sanity-check batches per validation loader. */
    public List<Long> numSanityValBatches() {
        long steps = config.effectiveNumSanityValSteps();
        List<Long> out = new ArrayList<>();
        for (long n : numValBatches()) {
            out.add(n < 0 ? steps : Math.min(n, steps));
        }
        return out;
    }

    /** Test batches per loader, empty before they are known. */
    public List<Long> numTestBatches() {
        List<Long> batches = testLoop.maxBatches();
        return batches == null ? List.of() : batches;
    }

    /** Prediction batches per loader of the running or last predict, empty before they are known. */
    public List<Long> numPredictBatches() {
        return predictLoop.maxBatches();
    }

    /**
     * The number of optimizer steps fit will take, Lightning's {@code estimated_stepping_batches}: useful for
     * one-cycle schedules in {@code configureOptimizers}. {@code Long.MAX_VALUE} when unbounded.
     */
    public long estimatedSteppingBatches() {
        if (ctx == null) {
            throw new IllegalStateException("estimatedSteppingBatches is known during fit only.");
        }
        long batches = fitLoop.resolveTrainingBatches();
        long maxSteps = config.resolvedMaxSteps();
        if (batches < 0) {
            return maxSteps == -1 ? Long.MAX_VALUE : maxSteps;
        }
        int maxEpochs = config.resolvedMaxEpochs();
        if (maxEpochs == -1) {
            return maxSteps == -1 ? Long.MAX_VALUE : maxSteps;
        }
        long estimate = (batches + accumulateGradBatches - 1) / accumulateGradBatches * Math.max(maxEpochs, 1);
        return maxSteps == -1 ? estimate : Math.min(estimate, maxSteps);
    }

    /** Batches whose gradients are summed per optimizer step. */
    public int accumulateGradBatches() {
        return accumulateGradBatches;
    }

    /**
     * Changes gradient accumulation, e.g. from a schedule at an epoch start.
     *
     * @param value at least 1
     */
    public void setAccumulateGradBatches(int value) {
        if (value < 1) {
            throw new IllegalArgumentException("accumulateGradBatches must be at least 1, got " + value);
        }
        accumulateGradBatches = value;
    }

    /** The resolved epoch limit (-1: none). */
    public int maxEpochs() {
        return config.resolvedMaxEpochs();
    }

    /** The resolved step limit (-1: none). */
    public long maxSteps() {
        return config.resolvedMaxSteps();
    }

    /** Whether this is a fastDevRun. */
    public boolean isFastDevRun() {
        return config.fastDevRun() > 0;
    }

    /**
     * Writes a checkpoint of the current state (weights, loops, callbacks, optimizers, schedulers) atomically.
     *
     * @param path the {@code .ckpt} file
     */
    public void saveCheckpoint(Path path) {
        saveCheckpoint(path, false);
    }

    /**
     * Writes a checkpoint atomically.
     *
     * @param path the {@code .ckpt} file
     * @param weightsOnly whether to store only the weights, loops and hyperparameters
     */
    public void saveCheckpoint(Path path, boolean weightsOnly) {
        if (module == null) {
            throw new IllegalStateException("saveCheckpoint needs a module: call it during or after a run.");
        }
        Checkpoint checkpoint = Checkpoints.dump(this, weightsOnly);
        if (ctx != null) {
            if (!weightsOnly) {
                ctx.hooks().callbacks(Hook.ON_SAVE_CHECKPOINT, c -> c.onSaveCheckpoint(this, module, checkpoint));
            }
            ctx.hooks().module(Hook.ON_SAVE_CHECKPOINT, () -> module.onSaveCheckpoint(checkpoint));
        } else {
            if (!weightsOnly) {
                for (Callback callback : callbacks) {
                    callback.onSaveCheckpoint(this, module, checkpoint);
                }
            }
            module.onSaveCheckpoint(checkpoint);
        }
        CheckpointWriter.write(checkpoint, path);
        if (ctx != null) {
            ctx.hooks().callbacks(Hook.ON_CHECKPOINT_SAVED, c -> c.onCheckpointSaved(this, module, path));
        } else {
            for (Callback callback : callbacks) {
                callback.onCheckpointSaved(this, module, path);
            }
        }
    }

    // ------------------------------------------------------------------ for the module

    /** The optimizers of the running fit, wrapped for the module. */
    public List<LightningOptimizer> lightningOptimizers() {
        requireRun("optimizers()");
        return ctx.lightningOptimizers();
    }

    /** The optimizers of the running fit, or after a fit those of its module (what saveCheckpoint stores). */
    public List<Optimizer> optimizers() {
        if (ctx == null && lastFitModule != null && lastFitModule == module) {
            return lastOptimizers;
        }
        requireRun("optimizers()");
        return ctx.optimizers();
    }

    /** The learning-rate schedulers of the running fit, or after a fit those of its module. */
    public List<LrScheduler> lrSchedulers() {
        List<LrScheduler> out = new ArrayList<>();
        for (SchedulerConfig scheduler : lrSchedulerConfigs()) {
            out.add(scheduler.scheduler());
        }
        return out;
    }

    /** The scheduler configurations of the running fit, or after a fit those of its module. */
    public List<SchedulerConfig> lrSchedulerConfigs() {
        if (ctx == null && lastFitModule != null && lastFitModule == module) {
            return lastSchedulers;
        }
        requireRun("lrSchedulerConfigs()");
        return ctx.schedulers();
    }

    /**
     * Replaces the learning-rate schedulers of the running fit, as Lightning's callbacks assign {@code
     * trainer.lr_scheduler_configs} (stochastic weight averaging swaps in its own schedule). The Trainer steps the new
     * schedulers from then on and checkpoints save their states; to resume such a fit, install the same schedulers
     * again by {@code onFitStart}, before the checkpoint's scheduler states are restored.
     *
     * @param configs the new scheduler configurations, each for one of {@link #optimizers()}
     * @throws IllegalArgumentException if a scheduler drives an optimizer that is not one of this fit's
     * @throws IllegalStateException outside a fit
     */
    public void setLrSchedulerConfigs(List<SchedulerConfig> configs) {
        requireRun("setLrSchedulerConfigs");
        if (fn != TrainerFn.FIT) {
            throw new IllegalStateException("setLrSchedulerConfigs is available during fit only, not " + fn);
        }
        List<SchedulerConfig> copy = List.copyOf(configs);
        for (SchedulerConfig config : copy) {
            if (!ctx.optimizers().contains(config.scheduler().optimizer())) {
                throw new IllegalArgumentException(config.scheduler().getClass().getSimpleName() + " drives "
                        + config.scheduler().optimizer() + ", which is not an optimizer of this fit: "
                        + ctx.optimizers());
            }
        }
        ctx.setOptimizers(ctx.optimizers(), ctx.lightningOptimizers(), copy);
        lastSchedulers = copy;
    }

    /**
     * Manual optimization's backward: hooks around the backward pass of the loss. Returns without a backward pass
     * when an {@code onBeforeBackward} hook called {@link #skipBackward()}.
     *
     * @param loss a scalar loss
     */
    public void manualBackward(NDArray loss) {
        requireRun("manualBackward");
        if (!ctx.beforeBackward(loss)) {
            return;
        }
        Hooks hooks = ctx.hooks();
        hooks.module(Hook.BACKWARD, () -> module.backward(loss));
        hooks.callbacks(Hook.ON_AFTER_BACKWARD, c -> c.onAfterBackward(this, module));
        hooks.module(Hook.ON_AFTER_BACKWARD, module::onAfterBackward);
    }

    /**
     * Cancels the backward pass of the loss now given to {@code onBeforeBackward}; call it from that hook (a
     * callback's or the module's). The remaining {@code onBeforeBackward} hooks still fire; the backward pass and the
     * {@code onAfterBackward} hooks do not, so the batch adds no gradient. With automatic optimization and no
     * accumulation the optimizer step of the batch is then skipped, as when {@code trainingStep} returns null, and
     * {@code globalStep} still counts it; when accumulating, the step uses the other batches of the window.
     *
     * @throws IllegalStateException outside of {@code onBeforeBackward}
     */
    public void skipBackward() {
        requireRun("skipBackward");
        ctx.skipBackward();
    }

    /**
     * Runs the engine's backward pass; the default of {@code LightningModule.backward}.
     *
     * @param loss a scalar loss
     */
    public void runBackward(NDArray loss) {
        requireRun("backward");
        ctx.backward(loss);
    }

    /**
     * Clips the gradients of an optimizer's parameters.
     *
     * @param optimizer the optimizer
     * @param value the limit, or null for none
     * @param algorithm norm or value
     */
    public void clipGradients(Optimizer optimizer, Double value, GradientClipAlgorithm algorithm) {
        GradientClipAlgorithm.apply(optimizer, value, algorithm);
    }

    /**
     * A reused scalar array holding the value, for arithmetic on the step's hot path with a few distinct values
     * (batch sizes, the accumulation factor); see {@link ScalarCache#get(double)}.
     *
     * @param value the value
     * @return the scalar, owned by the run
     */
    public NDArray scalar(double value) {
        requireRun("scalar");
        return scalars.get(value);
    }

    private void requireRun(String what) {
        if (ctx == null) {
            throw new IllegalStateException(what + " is available while the Trainer runs the module.");
        }
    }
}
