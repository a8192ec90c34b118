package io.github.djllightning.util;

import com.sun.jna.Function;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Flushes float denormals to zero on the threads that run a Trainer's engine work, as {@code
 * torch.set_flush_denormal(True)} does: numbers below float's smallest normal value (about 1.2e-38) are read and
 * written as zero. Adam's moments for inputs that are almost always zero (MNIST's border pixels) decay into that
 * range and stay there, and the CPU computes with them tens of times slower than with normal numbers.
 *
 * <p>The setting is made through the engine ({@code at::Context::setFlushDenormal}) on the calling thread and on the
 * engine's intra-op worker threads that serve it. It is scoped: {@link #enter()} turns it on when the calling thread
 * enters its outermost scope, {@link #exit()} turns it off when that scope ends. While it is on, Java's own
 * {@code float}/{@code double} arithmetic on the same thread flushes denormals too.
 *
 * <p>Where the engine's library cannot be found (not Linux, a build without the function), nothing changes and
 * {@link #enter()} returns false; that is logged once.
 */
public final class Denormals {

    private static final Logger LOG = LoggerFactory.getLogger(Denormals.class);
    private static final String SET_FLUSH_DENORMAL = "_ZN2at7Context16setFlushDenormalEb";
    private static final ThreadLocal<int[]> DEPTH = ThreadLocal.withInitial(() -> new int[1]);
    /** Read through a volatile field so that no compiler folds the probe's division at compile time. */
    private static volatile float smallestNormal = Float.MIN_NORMAL;
    private static volatile Optional<Natives> natives;

    private Denormals() {}

    /** The engine's switch and, where the engine runs its intra-op work on OpenMP, a way to reach those threads. */
    private static final class Natives {
        final Function setFlushDenormal;
        final Function parallel;
        final Function maxThreads;

        Natives(Function setFlushDenormal, Function parallel, Function maxThreads) {
            this.setFlushDenormal = setFlushDenormal;
            this.parallel = parallel;
            this.maxThreads = maxThreads;
        }

        boolean set(boolean on) {
            if (parallel != null) {
                // Runs the switch once on every thread of the calling thread's OpenMP team (itself included), the
                // team that runs its intra-op work; the switch's bool argument takes the place of the data pointer.
                int threads = (Integer) maxThreads.invoke(Integer.class, new Object[0]);
                parallel.invokeVoid(new Object[] {setFlushDenormal, on ? new Pointer(1) : Pointer.NULL, threads, 0});
                return on == isFlushing();
            }
            return (Boolean) setFlushDenormal.invoke(Boolean.class, new Object[] {on});
        }
    }

    /**
     * Turns flushing on for the calling thread (and its intra-op workers) unless an outer scope on this thread did
     * already. Every call must be matched by {@link #exit()}, also when it returned false.
     *
     * @return whether denormals are flushed on this thread now
     */
    public static boolean enter() {
        int[] depth = DEPTH.get();
        depth[0]++;
        if (depth[0] > 1) {
            return isFlushing();
        }
        Optional<Natives> found = natives();
        if (found.isEmpty()) {
            return false;
        }
        try {
            return found.get().set(true);
        } catch (RuntimeException | LinkageError e) {
            disable(e);
            return false;
        }
    }

    /** Ends a scope opened by {@link #enter()}; the outermost one turns flushing off again. */
    public static void exit() {
        int[] depth = DEPTH.get();
        if (depth[0] == 0) {
            throw new IllegalStateException("Denormals.exit() without a matching enter() on this thread");
        }
        depth[0]--;
        if (depth[0] == 0) {
            natives().ifPresent(n -> {
                try {
                    n.set(false);
                } catch (RuntimeException | LinkageError e) {
                    disable(e);
                }
            });
            DEPTH.remove();
        }
    }

    /**
     * Whether denormals are flushed on the calling thread now, as observed by computing with one.
     *
     * @return true when {@code Float.MIN_NORMAL / 2} comes out as zero on this thread
     */
    public static boolean isFlushing() {
        return smallestNormal / 2f == 0f;
    }

    /**
     * Whether the calling thread is inside a scope opened by {@link #enter()}; a thread that the scope's thread starts
     * for engine work (a loader's prefetch thread) opens its own scope when this is true.
     *
     * @return whether this thread asked for flushing
     */
    public static boolean isRequested() {
        return DEPTH.get()[0] > 0;
    }

    private static Optional<Natives> natives() {
        Optional<Natives> found = natives;
        if (found == null) {
            synchronized (Denormals.class) {
                found = natives;
                if (found == null) {
                    found = find();
                    natives = found;
                }
            }
        }
        return found;
    }

    private static void disable(Throwable cause) {
        natives = Optional.empty();
        LOG.warn("Cannot flush float denormals through the engine ({}); training runs without it.",
                cause.toString());
    }

    private static Optional<Natives> find() {
        try {
            NativeLibrary torch = EngineLibraries.loaded("libtorch_cpu");
            if (torch == null) {
                LOG.info("The engine's libtorch_cpu was not found (flushing is only available on Linux); float"
                        + " denormals are not flushed.");
                return Optional.empty();
            }
            Function setFlushDenormal = torch.getFunction(SET_FLUSH_DENORMAL);
            NativeLibrary openMp = EngineLibraries.loaded("libgomp");
            Function parallel = openMp == null ? null : openMp.getFunction("GOMP_parallel");
            Function maxThreads = openMp == null ? null : openMp.getFunction("omp_get_max_threads");
            return Optional.of(new Natives(setFlushDenormal, parallel, maxThreads));
        } catch (RuntimeException | LinkageError e) {
            LOG.warn("Cannot flush float denormals through the engine ({}); training runs without it.", e.toString());
            return Optional.empty();
        }
    }
}
