package io.github.djllightning.trainer;

import java.nio.file.Path;

/**
 * A fit stopped on request (SIGTERM, SIGINT or {@link Trainer#requestInterrupt}) after saving a checkpoint at a batch
 * boundary. Resume with {@code trainer.fit(module, ..., ckptPath)} using {@link #checkpoint()} or {@code "last"}.
 *
 * <p>A command-line application ends with {@code System.exit(e.exitCode())}: 143 after SIGTERM and 130 after SIGINT,
 * as a process killed by that signal would, so schedulers see the usual codes. The library never exits by itself.
 */
public class TrainingInterruptedException extends LightningException {

    private static final long serialVersionUID = 1L;

    private final String signal;
    private final transient Path checkpoint;

    /**
     * Creates the exception.
     *
     * @param signal {@code TERM}, {@code INT} or another reason
     * @param checkpoint the checkpoint written before stopping
     */
    public TrainingInterruptedException(String signal, Path checkpoint) {
        super("Training was interrupted (" + signal + ") and saved a checkpoint to " + checkpoint
                + "; resume with trainer.fit(module, ..., \"" + checkpoint + "\") or ckptPath \"last\".");
        this.signal = signal;
        this.checkpoint = checkpoint;
    }

    /** What interrupted the fit: {@code TERM}, {@code INT}, or the reason given to {@link Trainer#requestInterrupt}. */
    public String signal() {
        return signal;
    }

    /** The checkpoint written before stopping. */
    public Path checkpoint() {
        return checkpoint;
    }

    /** The exit code a command-line application should end with: 143 (TERM), 130 (INT), else 1. */
    public int exitCode() {
        switch (signal) {
            case "TERM":
                return 143;
            case "INT":
                return 130;
            default:
                return 1;
        }
    }
}
