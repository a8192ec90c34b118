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
    private static volatile Engine cachedEngine;

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
     * Reseeds the engine's and DJL's random numbers for one training batch from the run's seed and the batch's
     * number across the run, so the dropout masks and other draws of a batch do not depend on what ran before it in
     * this process: a run resumed from a checkpoint draws exactly what the uninterrupted run drew.
     *
     * @param seed the run's seed
     * @param batchNumber the training batch's number across the run, from 1
     */
    public static void reseedForBatch(long seed, long batchNumber) {
        long z = seed + batchNumber * 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z = z ^ (z >>> 31);
        Engine engine = cachedEngine;
        if (engine == null) {
            engine = engine();
            cachedEngine = engine;
        }
        engine.setRandomSeed((int) (z ^ (z >>> 32)));
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
