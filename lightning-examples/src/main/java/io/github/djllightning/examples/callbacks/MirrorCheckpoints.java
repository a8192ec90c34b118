package io.github.djllightning.examples.callbacks;

import io.github.djllightning.callback.Callback;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.trainer.MisconfigurationException;
import io.github.djllightning.trainer.Trainer;
import io.github.djllightning.util.AtomicFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Copies every checkpoint the Trainer writes to a second folder, for example a network drive or a folder that a sync
 * job uploads: the seed's {@code Trainer(callbacks=[AWSCheckpoints()])}, and the recipe for extending checkpointing
 * with a callback.
 *
 * <pre>{@code
 * Trainer trainer = Trainer.builder()
 *         .callbacks(new MirrorCheckpoints(Path.of("/mnt/backup/run-42")))
 *         .build();
 * trainer.fit(module, loader);   // every epoch=E-step=S.ckpt and last.ckpt also lands in /mnt/backup/run-42/...
 * }</pre>
 *
 * <p><b>The recipe.</b> {@link Callback#onCheckpointSaved} fires after a checkpoint file was written completely, by
 * {@code ModelCheckpoint}, by an interrupt or by {@code trainer.saveCheckpoint}; it gets the file's path. Do the extra
 * work there: copy, upload, index. To add content to the checkpoint itself, use {@link Callback#onSaveCheckpoint}
 * (before writing) or a {@link Callback#stateDict()} instead.
 *
 * <p>A checkpoint under the Trainer's {@code defaultRootDir} keeps its relative path in the mirror ({@code
 * lightning_logs/version_0/checkpoints/last.ckpt}); one elsewhere goes to the mirror's top folder under its file name.
 * Each copy is written atomically, so the mirror never holds a partial checkpoint, and a newer {@code last.ckpt}
 * replaces the older copy. The mirror is a backup: files that {@code ModelCheckpoint} later deletes (checkpoints that
 * left the top k) stay in it. Hidden files (names starting with {@code .}, such as a tuner's temporary checkpoints)
 * are not copied. A copy that fails ends the run with an {@link UncheckedIOException}; the original file is intact.
 */
public final class MirrorCheckpoints implements Callback {

    private final Path mirrorDir;

    /**
     * Creates the callback.
     *
     * @param mirrorDir the folder that receives the copies; created when missing
     * @throws MisconfigurationException for a null folder
     */
    public MirrorCheckpoints(Path mirrorDir) {
        if (mirrorDir == null) {
            throw new MisconfigurationException("MirrorCheckpoints needs the folder to copy checkpoints to, got null;"
                    + " pass e.g. Path.of(\"/mnt/backup/run-42\").");
        }
        this.mirrorDir = mirrorDir;
    }

    /** The folder that receives the copies. */
    public Path mirrorDir() {
        return mirrorDir;
    }

    /**
     * Where the copy of a checkpoint goes.
     *
     * @param trainer the Trainer that wrote it
     * @param checkpoint the checkpoint file
     * @return its path relative to the Trainer's {@code defaultRootDir} under the mirror folder, or the mirror folder
     *     and its file name when it lies elsewhere
     */
    public Path mirrorOf(Trainer trainer, Path checkpoint) {
        Path file = checkpoint.toAbsolutePath().normalize();
        Path base = trainer.defaultRootDir().toAbsolutePath().normalize();
        return mirrorDir.resolve(file.startsWith(base) ? base.relativize(file) : file.getFileName());
    }

    @Override
    public void onCheckpointSaved(Trainer trainer, LightningModule module, Path path) {
        if (path.getFileName().toString().startsWith(".")) {
            return;
        }
        Path copy = mirrorOf(trainer, path);
        try {
            AtomicFiles.write(copy, out -> Files.copy(path, out));
        } catch (IOException e) {
            throw new UncheckedIOException("MirrorCheckpoints could not copy " + path + " to " + copy + ": "
                    + e.getMessage(), e);
        }
    }
}
