package io.github.djllightning.loggers;

import io.github.djllightning.log.DefaultLoggerProvider;
import io.github.djllightning.log.Logger;
import java.nio.file.Path;

/**
 * Makes {@link TensorBoardLogger} the Trainer's default logger when this module is on the class path, as Lightning
 * prefers TensorBoard when it is installed; without this module the default stays the CSV logger of core.
 */
public final class TensorBoardLoggerProvider implements DefaultLoggerProvider {

    /** The rank of this provider: above the CSV logger's 0. */
    public static final int PRIORITY = 10;

    /** Creates the provider; {@link java.util.ServiceLoader} calls this. */
    public TensorBoardLoggerProvider() {}

    @Override
    public Logger create(Path defaultRootDir) {
        return new TensorBoardLogger(defaultRootDir);
    }

    @Override
    public int priority() {
        return PRIORITY;
    }
}
