package io.github.djllightning.loop;

import ai.djl.training.dataset.Batch;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.trainer.Hook;

/** The three batch-transfer hooks, in Lightning's order. */
final class Transfers {

    private Transfers() {}

    static Batch toDevice(Hooks hooks, LightningModule module, Batch batch, int dataloaderIdx) {
        Batch before = hooks.moduleValue(
                Hook.ON_BEFORE_BATCH_TRANSFER, () -> module.onBeforeBatchTransfer(batch, dataloaderIdx));
        Batch moved = hooks.moduleValue(
                Hook.TRANSFER_BATCH_TO_DEVICE,
                () -> module.transferBatchToDevice(before, module.device(), dataloaderIdx));
        return hooks.moduleValue(Hook.ON_AFTER_BATCH_TRANSFER, () -> module.onAfterBatchTransfer(moved, dataloaderIdx));
    }
}
