package io.github.djllightning.cli;

/**
 * A command line that cannot be run: an unknown or ill-typed flag, a bad config file, a config file that would be
 * overwritten. The message names the flag or file and what is valid; {@link #exitCode()} is the status a program's
 * {@code main} should exit with. The library itself never exits the JVM.
 */
public class CliException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** The exit code of a usage error (an unknown or ill-typed flag, a bad config file), as argparse uses. */
    public static final int USAGE = 2;

    /** The exit code of a run that could not start or finish for a reason other than usage. */
    public static final int FAILURE = 1;

    private final int exitCode;

    /**
     * Creates the exception.
     *
     * @param message what is wrong and how to fix it
     * @param exitCode the status to exit with
     */
    public CliException(String message, int exitCode) {
        super(message);
        this.exitCode = exitCode;
    }

    /**
     * Creates the exception with a cause.
     *
     * @param message what is wrong and how to fix it
     * @param exitCode the status to exit with
     * @param cause the underlying error
     */
    public CliException(String message, int exitCode, Throwable cause) {
        super(message, cause);
        this.exitCode = exitCode;
    }

    /** A usage error (exit code 2). */
    static CliException usage(String message) {
        return new CliException(message, USAGE);
    }

    /** The status a program's {@code main} should exit with. */
    public int exitCode() {
        return exitCode;
    }
}
