package io.github.djllightning.loop;

import ai.djl.training.dataset.Batch;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.trainer.Hook;

/** The three batch-transfer hooks, in Lightning's order. */
final class Transfers {

    private Transfers() {}

    static Batch toDevice(Hooks hooks, LightningModule module, Batch batch, int dataloaderIdx) {
        // the two hooks around the transfer hand the batch on unchanged unless the module overrides them
        Batch before = hooks.moduleCalls(Hook.ON_BEFORE_BATCH_TRANSFER)
                ? hooks.moduleValue(
                        Hook.ON_BEFORE_BATCH_TRANSFER, () -> module.onBeforeBatchTransfer(batch, dataloaderIdx))
                : batch;
        Batch moved = hooks.moduleValue(
                Hook.TRANSFER_BATCH_TO_DEVICE,
                () -> module.transferBatchToDevice(before, module.device(), dataloaderIdx));
        return hooks.moduleCalls(Hook.ON_AFTER_BATCH_TRANSFER)
                ? hooks.moduleValue(
                        Hook.ON_AFTER_BATCH_TRANSFER, () -> module.onAfterBatchTransfer(moved, dataloaderIdx))
                : moved;
    }
}
