package io.github.djllightning.callbacks;

import io.github.djllightning.callback.Callback;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.trainer.MisconfigurationException;
import io.github.djllightning.trainer.Trainer;
import io.github.djllightning.trainer.TrainerFn;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Saves a checkpoint when an exception ends a fit, so the run can be resumed from where it failed: {@code
 * trainer.fit(module, loader, crash.ckptPath().toString())}. Lightning's {@code OnExceptionCheckpoint}.
 *
 * <pre>{@code
 * OnExceptionCheckpoint crash = new OnExceptionCheckpoint(Path.of("checkpoints"));
 * Trainer trainer = Trainer.builder().callbacks(crash).build();
 * trainer.fit(module, loader);   // an exception at any point leaves checkpoints/on_exception.ckpt
 * }</pre>
 *
 * <p>The file {@code dirpath/filename.ckpt} is a full checkpoint of the state at the failure (weights, optimizer
 * state, loop position); when the failure came in {@code trainingStep}, before the batch's optimizer step, the resumed
 * fit starts with the batch that failed. A later failure replaces the file. When a fit ends without an exception, the
 * file is deleted (it would be older than the run's own checkpoints).
 *
 * <p><b>Better than Lightning:</b> only {@code fit} saves and deletes the file. A failing {@code validate}, {@code
 * test} or {@code predict} changes no weights, and a successful one does not delete what a failed fit left.
 */
public class OnExceptionCheckpoint implements Callback {

    /** The checkpoint file extension. */
    public static final String FILE_EXTENSION = ".ckpt";

    private static final Logger LOG = LoggerFactory.getLogger(OnExceptionCheckpoint.class);

    private final Path dirpath;
    private final String filename;

    /**
     * Saves {@code dirpath/on_exception.ckpt} when a fit fails.
     *
     * @param dirpath the folder; created when needed
     */
    public OnExceptionCheckpoint(Path dirpath) {
        this(dirpath, "on_exception");
    }

    /**
     * Saves {@code dirpath/filename.ckpt} when a fit fails.
     *
     * @param dirpath the folder; created when needed
     * @param filename the file name without the extension (default {@code on_exception})
     * @throws MisconfigurationException for a null folder, an empty name, a name with a folder separator or one that
     *     ends with {@code .ckpt}
     */
    public OnExceptionCheckpoint(Path dirpath, String filename) {
        if (dirpath == null) {
            throw new MisconfigurationException("OnExceptionCheckpoint needs the folder to save to, got null (it is"
                    + " not chosen later because an exception can happen at any moment); pass e.g."
                    + " Path.of(\"checkpoints\").");
        }
        if (filename == null || filename.isEmpty()) {
            throw new MisconfigurationException("OnExceptionCheckpoint filename must not be empty, got "
                    + (filename == null ? "null" : "''") + "; the default is \"on_exception\".");
        }
        if (filename.contains("/") || filename.contains("\\")) {
            throw new MisconfigurationException("OnExceptionCheckpoint filename must be a plain name, got '" + filename
                    + "'; put the folder in dirpath.");
        }
        if (filename.endsWith(FILE_EXTENSION)) {
            throw new MisconfigurationException("OnExceptionCheckpoint filename must not include the extension, got '"
                    + filename + "'; use '" + filename.substring(0, filename.length() - FILE_EXTENSION.length())
                    + "'.");
        }
        this.dirpath = dirpath;
        this.filename = filename;
    }

    /** The folder the checkpoint goes to. */
    public Path dirpath() {
        return dirpath;
    }

    /** The file name without the extension. */
    public String filename() {
        return filename;
    }

    /** The checkpoint file: {@code dirpath/filename.ckpt}. */
    public Path ckptPath() {
        return dirpath.resolve(filename + FILE_EXTENSION);
    }

    /** Saves the checkpoint when the failing run is a fit. */
    @Override
    public void onException(Trainer trainer, LightningModule module, Throwable exception) {
        if (trainer.fn() != TrainerFn.FIT) {
            return;
        }
        Path file = ckptPath();
        trainer.saveCheckpoint(file);
        LOG.warn("The fit failed at epoch {}, global step {} ({}); saved {} to resume from.",
                trainer.currentEpoch(), trainer.globalStep(), exception.getMessage(), file);
    }

    /** Deletes the checkpoint after a fit that ended without an exception. */
    @Override
    public void teardown(Trainer trainer, LightningModule module, TrainerFn stage) {
        if (stage != TrainerFn.FIT) {
            return;
        }
        try {
            Files.deleteIfExists(ckptPath());
        } catch (IOException e) {
            throw new UncheckedIOException("OnExceptionCheckpoint could not delete " + ckptPath() + ": "
                    + e.getMessage(), e);
        }
    }
}
