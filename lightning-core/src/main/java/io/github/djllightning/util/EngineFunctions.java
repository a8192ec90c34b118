package io.github.djllightning.util;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Functions of the engine's native libraries that a class calls directly, looked up once on first use. Absent (null)
 * where the calls were not written for the platform (they are for Linux on x86-64), where a library or function cannot
 * be found, or where the class's switch, a system property, is set to {@code false}; the class then keeps to DJL's
 * operations.
 *
 * @param <T> what the lookup gives: the functions, as the class holds them
 */
public final class EngineFunctions<T> {

    private static final Logger LOG = LoggerFactory.getLogger(EngineFunctions.class);

    /**
     * Finds the functions in the libraries the process has loaded ({@link EngineLibraries#loaded}).
     *
     * @param <T> what it gives
     */
    @FunctionalInterface
    public interface Lookup<T> {
        /**
         * Looks the functions up.
         *
         * @return them, or null when a library is not loaded
         * @throws ReflectiveOperationException when a class or member reached by reflection is missing
         */
        T find() throws ReflectiveOperationException;
    }

    private final String property;
    private final String without;
    private final Lookup<T> lookup;
    private volatile boolean searched;
    private volatile T found;

    /**
     * Creates the lazy lookup.
     *
     * @param property the system property that switches the functions off with {@code false}
     * @param without what the class does without them, for the debug log
     * @param lookup the lookup
     */
    public EngineFunctions(String property, String without, Lookup<T> lookup) {
        this.property = property;
        this.without = without;
        this.lookup = lookup;
    }

    /**
     * The functions, looked up on the first call.
     *
     * @return them, or null where they are not available
     */
    public T get() {
        if (!searched) {
            synchronized (this) {
                if (!searched) {
                    found = find();
                    searched = true;
                }
            }
        }
        return found;
    }

    private T find() {
        if ("false".equalsIgnoreCase(System.getProperty(property)) || !EngineLibraries.isX86()) {
            return null; // switched off, or a calling convention the callers were not written for
        }
        try {
            return lookup.find();
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            LOG.debug("Engine functions not available ({}): {}.", e.toString(), without);
            return null;
        }
    }
}
