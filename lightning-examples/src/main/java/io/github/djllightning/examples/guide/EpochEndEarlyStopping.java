package io.github.djllightning.examples.guide;

import io.github.djllightning.callbacks.EarlyStopping;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.trainer.Trainer;

/**
 * The early-stopping page's subclass: the check runs once at the end of every training epoch, on the metrics of the
 * epoch's last validation, however often validation runs (the tutorial's {@code MyEarlyStopping}).
 */
// snippet:class
public class EpochEndEarlyStopping extends EarlyStopping {

    /**
     * Creates the callback.
     *
     * @param settings the monitored metric, mode, patience and the other settings
     */
    public EpochEndEarlyStopping(EarlyStopping.Builder settings) {
        super(settings);
    }

    @Override
    public void onValidationEnd(Trainer trainer, LightningModule module) {
        // no check after each validation run
    }

    @Override
    public void onTrainEpochEnd(Trainer trainer, LightningModule module) {
        runEarlyStoppingCheck(trainer);   // instead, one check per training epoch
    }
}
// end-snippet:class
