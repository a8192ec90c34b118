package io.github.djllightning.util;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;
import java.util.Random;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Prepares the DJL engine for a run: offline mode (unless the user chose otherwise), thread count, seeds. Changes
 * process-wide settings only when asked to or when the user has not set them, and says so in the log.
 */
public final class EngineSetup {

    private static final Logger LOG = LoggerFactory.getLogger(EngineSetup.class);
    private static final String OFFLINE = "ai.djl.offline";

    private EngineSetup() {}

    /**
     * Turns DJL's offline mode on when neither the system property nor {@code DJL_OFFLINE} is set, so the engine never
     * downloads natives at run time (they come from Maven).
     */
    public static void preferOffline() {
        if (System.getProperty(OFFLINE) == null && System.getenv("DJL_OFFLINE") == null) {
            System.setProperty(OFFLINE, "true");
            LOG.debug("DJL offline mode turned on (set -D{}=false to allow downloads).", OFFLINE);
        }
    }

    /** Loads the engine (offline unless configured otherwise) and returns it. */
    public static Engine engine() {
        preferOffline();
        return Engine.getInstance();
    }

    /**
     * Sets the engine's intra-op thread count.
     *
     * @param threads the number of threads
     */
    public static void setThreads(int threads) {
        engine();
        JniUtils.setNumThreads(threads);
    }

    /**
     * Asks the engine for reproducible results: cuDNN's benchmark mode (which picks algorithms by timing) is switched
     * off. The engine's CPU kernels used for training are deterministic already; DJL has no switch for {@code
     * torch.use_deterministic_algorithms}, so GPU kernels without a deterministic variant may still vary.
     */
    public static void deterministic() {
        engine();
        JniUtils.setBenchmarkCuDNN(false);
    }

    /**
     * Seeds the engine's random numbers (parameter initialization, dropout) and DJL's Java random numbers.
     *
     * @param seed the seed
     * @return a Java random generator seeded from the same seed, for anything else that needs one
     */
    public static Random seedEverything(long seed) {
        engine().setRandomSeed((int) (seed ^ (seed >>> 32)));
        return new Random(seed);
    }
}
