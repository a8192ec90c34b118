package io.github.djllightning.loop;

import ai.djl.training.dataset.Batch;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.trainer.MisconfigurationException;
import io.github.djllightning.trainer.TrainerFn;

/**
 * Checks, before the first hook runs, that the module, the data and the Trainer flags can work together, and says
 * what to add or change when they cannot. Lightning's {@code configuration_validator}.
 */
public final class ConfigurationValidator {

    private ConfigurationValidator() {}

    /**
     * Validates a run.
     *
     * @param ctx the run
     * @param fn what the run does
     * @throws MisconfigurationException naming what is missing and how to provide it
     */
    public static void verify(RunContext ctx, TrainerFn fn) {
        LightningModule module = ctx.module;
        String name = module.getClass().getSimpleName();
        switch (fn) {
            case FIT:
                if (!Overrides.overrides(module, LightningModule.class, "trainingStep", Batch.class, int.class)) {
                    throw new MisconfigurationException(
                            "No trainingStep(Batch, int) method defined in " + name + ". The Trainer needs at least"
                                    + " trainingStep, training data and configureOptimizers to fit.");
                }
                if (!Overrides.overrides(module, LightningModule.class, "configureOptimizers")) {
                    throw new MisconfigurationException(
                            "No configureOptimizers() method defined in " + name + ". Return e.g."
                                    + " OptimizerConfig.of(new Adam(parameters(), 1e-3)) from it.");
                }
                if (!ctx.config.effectiveLimitTrain().isZero() && !ctx.train.isDefined()) {
                    throw new MisconfigurationException(
                            "No training data: pass a DataLoader to fit(module, trainLoader), give a"
                                    + " LightningDataModule with trainDataloader(), or override trainDataloader() in "
                                    + name + ".");
                }
                if (!module.isAutomaticOptimization()) {
                    Double clip = ctx.config.optimization().gradientClipVal();
                    if (clip != null && clip > 0) {
                        throw new MisconfigurationException(
                                "Automatic gradient clipping (gradientClipVal=" + clip + ") is not supported with"
                                        + " manual optimization. Remove gradientClipVal from the Trainer or clip in"
                                        + " trainingStep with clipGradients(...).");
                    }
                    if (ctx.config.optimization().accumulateGradBatches() != 1) {
                        throw new MisconfigurationException(
                                "accumulateGradBatches=" + ctx.config.optimization().accumulateGradBatches()
                                        + " is not supported with manual optimization. Remove it from the Trainer"
                                        + " and accumulate in trainingStep.");
                    }
                }
                break;
            case VALIDATE:
                requireStep(module, "validationStep", "validate");
                requireData(ctx.val, "validation", "valDataloader()", "validate");
                break;
            case TEST:
                requireStep(module, "testStep", "test");
                requireData(ctx.test, "test", "testDataloader()", "test");
                break;
            default:
                requireData(ctx.predict, "prediction", "predictDataloader()", "predict");
                break;
        }
    }

    private static void requireStep(LightningModule module, String step, String call) {
        boolean overridden = Overrides.overrides(module, LightningModule.class, step, Batch.class, int.class)
                || Overrides.overrides(module, LightningModule.class, step, Batch.class, int.class, int.class);
        if (!overridden) {
            throw new MisconfigurationException(
                    "No " + step + "(Batch, int) method defined in " + module.getClass().getSimpleName()
                            + " to run Trainer." + call + ".");
        }
    }

    private static void requireData(DataSource source, String what, String hook, String call) {
        if (!source.isDefined()) {
            throw new MisconfigurationException(
                    "No " + what + " data to run Trainer." + call + ": pass loaders to it, give a"
                            + " LightningDataModule with " + hook + ", or override " + hook + " in the module.");
        }
    }
}
