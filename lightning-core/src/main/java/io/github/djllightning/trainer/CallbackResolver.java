package io.github.djllightning.trainer;

import io.github.djllightning.callback.Callback;
import io.github.djllightning.callback.ModelCheckpoint;
import io.github.djllightning.callback.ModelSummary;
import io.github.djllightning.callback.NonFiniteLossGuard;
import io.github.djllightning.callback.ProgressBar;
import io.github.djllightning.callback.TerminalProgressBar;
import io.github.djllightning.module.LightningModule;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Builds the callback list: the user's callbacks, the defaults the flags turn on (checkpointing, progress bar, model
 * summary) and the non-finite-loss guard, the module's {@code configureCallbacks}, with checkpoint callbacks moved
 * last.
 */
final class CallbackResolver {

    private CallbackResolver() {}

    /** The user's callbacks plus the defaults; made once per Trainer so defaults keep their state across runs. */
    static List<Callback> withDefaults(TrainerConfig config) {
        List<Callback> callbacks = new ArrayList<>(config.callbacks());
        boolean hasCheckpoint = callbacks.stream().anyMatch(c -> c instanceof ModelCheckpoint);
        if (hasCheckpoint && !config.output().enableCheckpointing()) {
            throw new MisconfigurationException(
                    "enableCheckpointing(false) was set but a ModelCheckpoint is in the callbacks; remove one of"
                            + " them.");
        }
        if (!hasCheckpoint && config.output().enableCheckpointing()) {
            callbacks.add(new ModelCheckpoint());
        }
        long bars = callbacks.stream().filter(c -> c instanceof ProgressBar).count();
        if (bars > 1) {
            throw new MisconfigurationException(
                    "Found " + bars + " progress bars in the callbacks; use at most one.");
        }
        if (bars == 1 && !config.output().enableProgressBar()) {
            throw new MisconfigurationException(
                    "enableProgressBar(false) was set but a progress bar is in the callbacks; remove one of them.");
        }
        if (bars == 0 && config.output().enableProgressBar()) {
            callbacks.add(new TerminalProgressBar());
        }
        // a non-finite loss fails fast unless the user chose another NonFiniteLossGuard action
        if (callbacks.stream().noneMatch(c -> c instanceof NonFiniteLossGuard)) {
            callbacks.add(new NonFiniteLossGuard());
        }
        boolean hasSummary = callbacks.stream().anyMatch(c -> c instanceof ModelSummary);
        if (!hasSummary && config.output().enableModelSummary()) {
            callbacks.add(new ModelSummary());
        }
        return reorder(callbacks);
    }

    /**
     * Merges the module's own callbacks: each replaces the Trainer callbacks of its class.
     *
     * @param base the Trainer's callbacks
     * @param fromModule what {@code configureCallbacks} returned
     * @return the run's callbacks, checkpoints last
     */
    static List<Callback> merge(List<Callback> base, List<Callback> fromModule) {
        if (fromModule == null || fromModule.isEmpty()) {
            return base;
        }
        Set<Class<?>> replaced = new HashSet<>();
        for (Callback callback : fromModule) {
            replaced.add(callback.getClass());
        }
        boolean moduleGuard = fromModule.stream().anyMatch(c -> c instanceof NonFiniteLossGuard);
        List<Callback> merged = new ArrayList<>();
        for (Callback callback : base) {
            // a module's loss guard of any kind replaces the Trainer's
            boolean guardReplaced = moduleGuard && callback instanceof NonFiniteLossGuard;
            if (!replaced.contains(callback.getClass()) && !guardReplaced) {
                merged.add(callback);
            }
        }
        merged.addAll(fromModule);
        return reorder(merged);
    }

    /** Checks that callbacks with state have distinct state keys, so their checkpoint entries do not collide. */
    static void checkStateKeys(List<Callback> callbacks) {
        Map<String, Callback> seen = new HashMap<>();
        for (Callback callback : callbacks) {
            if (callback.stateDict().isEmpty()) {
                continue;
            }
            Callback other = seen.put(callback.stateKey(), callback);
            if (other != null) {
                throw new MisconfigurationException(
                        "Two callbacks with state have the same state key '" + callback.stateKey() + "' ("
                                + other.getClass().getSimpleName() + " and " + callback.getClass().getSimpleName()
                                + "); give them different arguments or override stateKey().");
            }
        }
    }

    private static List<Callback> reorder(List<Callback> callbacks) {
        List<Callback> ordered = new ArrayList<>();
        List<Callback> checkpoints = new ArrayList<>();
        for (Callback callback : callbacks) {
            (callback instanceof ModelCheckpoint ? checkpoints : ordered).add(callback);
        }
        ordered.addAll(checkpoints);
        return List.copyOf(ordered);
    }

    static List<Callback> forRun(List<Callback> base, LightningModule module) {
        List<Callback> merged = merge(base, module.configureCallbacks());
        checkStateKeys(merged);
        return merged;
    }
}
