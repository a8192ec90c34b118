package io.github.djllightning.log;

import java.nio.file.Path;

/**
 * Supplies the Trainer's default logger, found with {@link java.util.ServiceLoader}: a module on the class path (such
 * as the TensorBoard logger) can replace the CSV logger of core, as Lightning prefers TensorBoard when it is
 * installed. The provider with the highest {@link #priority()} wins.
 */
public interface DefaultLoggerProvider {

    /**
     * Creates the default logger of a Trainer.
     *
     * @param defaultRootDir the Trainer's root folder
     * @return the logger
     */
    Logger create(Path defaultRootDir);

    /** The provider's rank; the CSV logger of core has 0. */
    default int priority() {
        return 0;
    }
}
