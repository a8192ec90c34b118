package io.github.djllightning.checkpoint;

import java.nio.file.Path;

/**
 * A checkpoint or weights file that cannot be used: unreadable, corrupt, of a newer format, or not matching the
 * module. The message names the file and the field, and says what was expected and what was found.
 */
public class CheckpointException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final transient Path file;
    private final String field;

    /**
     * Creates the exception.
     *
     * @param file the file read, or null when not known
     * @param field the entry or field at fault (for example {@code state_dict.safetensors: encoder.0.weight}), or null
     * @param problem what is wrong and how to fix it
     */
    public CheckpointException(Path file, String field, String problem) {
        this(file, field, problem, null);
    }

    /**
     * Creates the exception with a cause.
     *
     * @param file the file read, or null when not known
     * @param field the entry or field at fault, or null
     * @param problem what is wrong and how to fix it
     * @param cause the underlying failure
     */
    public CheckpointException(Path file, String field, String problem, Throwable cause) {
        super(message(file, field, problem), cause);
        this.file = file;
        this.field = field;
    }

    private static String message(Path file, String field, String problem) {
        StringBuilder out = new StringBuilder();
        out.append(file == null ? "checkpoint" : file.toAbsolutePath().toString());
        if (field != null) {
            out.append(" [").append(field).append(']');
        }
        return out.append(": ").append(problem).toString();
    }

    /** The file read, or null. */
    public Path file() {
        return file;
    }

    /** The entry or field at fault, or null. */
    public String field() {
        return field;
    }
}
