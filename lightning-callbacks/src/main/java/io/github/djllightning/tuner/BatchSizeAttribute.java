package io.github.djllightning.tuner;

import io.github.djllightning.module.LightningDataModule;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.trainer.MisconfigurationException;

/**
 * Where the batch size of the training loader is kept, so the batch-size finder can set it. Looked up in this order,
 * as Lightning looks up {@code batch_size}: the module when it implements {@link HasBatchSize}; the module's
 * hyperparameter of the given name ({@link LightningModule#hparams()}), which {@code trainDataloader()} must then
 * read; the data module when it implements {@link HasBatchSize}.
 */
public final class BatchSizeAttribute {

    private final HasBatchSize holder;
    private final LightningModule module;
    private final String hparam;

    private BatchSizeAttribute(HasBatchSize holder, LightningModule module, String hparam) {
        this.holder = holder;
        this.module = module;
        this.hparam = hparam;
    }

    /**
     * Finds where the batch size is kept.
     *
     * @param module the module
     * @param datamodule the data module, or null
     * @param batchArgName the hyperparameter to look for when the module does not implement {@link HasBatchSize}
     * @return the attribute
     * @throws MisconfigurationException when there is no such place, naming where it looked and the fix
     */
    public static BatchSizeAttribute find(LightningModule module, LightningDataModule datamodule, String batchArgName) {
        if (module instanceof HasBatchSize) {
            return new BatchSizeAttribute((HasBatchSize) module, null, null);
        }
        if (module.hparams().containsKey(batchArgName)) {
            Object value = module.hparams().get(batchArgName);
            if (!(value instanceof Integer || value instanceof Long || value instanceof Short)) {
                throw new MisconfigurationException("The hyperparameter \"" + batchArgName + "\" of "
                        + module.getClass().getSimpleName() + " should hold the batch size, but holds " + value
                        + "; point batchArgName at a whole number.");
            }
            return new BatchSizeAttribute(null, module, batchArgName);
        }
        if (datamodule instanceof HasBatchSize) {
            return new BatchSizeAttribute((HasBatchSize) datamodule, null, null);
        }
        throw new MisconfigurationException("The batch-size finder cannot find the batch size: "
                + module.getClass().getSimpleName() + " does not implement HasBatchSize and has no hyperparameter \""
                + batchArgName + "\" (its hyperparameters are " + module.hparams().keySet() + "), and "
                + (datamodule == null ? "there is no data module" : datamodule.getClass().getSimpleName()
                        + " does not implement HasBatchSize")
                + ". Implement HasBatchSize on the module or data module whose trainDataloader() builds the loader,"
                + " or record the size with saveHyperparameters and set batchArgName to its name.");
    }

    /** The batch size held now. */
    public int get() {
        return holder != null ? holder.batchSize() : ((Number) module.hparams().get(hparam)).intValue();
    }

    /**
     * Sets the batch size.
     *
     * @param batchSize the new size, at least 1
     */
    public void set(int batchSize) {
        if (holder != null) {
            holder.setBatchSize(batchSize);
        } else {
            module.hparams().put(hparam, batchSize);
        }
    }

    /** Where the size is kept, for messages: a class name or {@code hparams["batch_size"]}. */
    public String describe() {
        return holder != null ? holder.getClass().getSimpleName() + ".batchSize()" : "hparams[\"" + hparam + "\"]";
    }
}
