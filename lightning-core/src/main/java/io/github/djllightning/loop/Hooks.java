package io.github.djllightning.loop;

import io.github.djllightning.callback.Callback;
import io.github.djllightning.log.MetricsConnector;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.profile.Profiler;
import io.github.djllightning.trainer.Hook;
import io.github.djllightning.trainer.Trainer;
import java.lang.reflect.Method;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.IntStream;

/**
 * Calls a hook on every callback and then on the module, with the logging context set and, when a profiler is on,
 * each call timed under Lightning's action names. Typed calls only: no reflection, no lookup by name.
 */
public final class Hooks {

    /** One callback's hook, applied to a callback. */
    @FunctionalInterface
    public interface CallbackCall {
        /** Calls the hook on the callback. */
        void call(Callback callback);
    }

    private final Trainer trainer;
    private final LightningModule module;
    private final List<Callback> callbacks;
    private final MetricsConnector metrics;
    private final Profiler profiler;
    private final boolean profiling;
    private final String[] moduleActions;
    private final String[][] callbackActions;
    /**
     * Per hook: the positions, in the calling order, of the callbacks that implement it (the others inherit {@link
     * Callback}'s empty method).
     */
    private final int[][] implementing;
    /** Per hook: whether the module's class (or a superclass of its own) has its own method of the hook's name. */
    private final boolean[] moduleOverrides;

    /**
     * Creates a dispatcher for one run.
     *
     * @param trainer the Trainer, passed to the callbacks
     * @param module the module
     * @param callbacks the callbacks in calling order
     * @param metrics where the logging context is set
     * @param profiler the profiler
     */
    public Hooks(
            Trainer trainer,
            LightningModule module,
            List<Callback> callbacks,
            MetricsConnector metrics,
            Profiler profiler) {
        this.trainer = trainer;
        this.module = module;
        this.callbacks = callbacks;
        this.metrics = metrics;
        this.profiler = profiler;
        this.profiling = profiler.isEnabled();
        Hook[] hooks = Hook.values();
        moduleActions = new String[hooks.length];
        callbackActions = new String[callbacks.size()][hooks.length];
        implementing = new int[hooks.length][];
        moduleOverrides = new boolean[hooks.length];
        for (Hook hook : hooks) {
            String method = callbackMethod(hook);
            implementing[hook.ordinal()] = IntStream.range(0, callbacks.size())
                    .filter(i -> method == null || implementsHook(callbacks.get(i), method))
                    .toArray();
            moduleOverrides[hook.ordinal()] = overridesHook(module, methodName(hook));
        }
        if (profiling) {
            String moduleName = module.getClass().getSimpleName();
            for (Hook hook : hooks) {
                moduleActions[hook.ordinal()] = "[LightningModule]" + moduleName + "." + hook.lightningName();
                for (int i = 0; i < callbacks.size(); i++) {
                    callbackActions[i][hook.ordinal()] =
                            "[Callback]" + callbacks.get(i).stateKey() + "." + hook.lightningName();
                }
            }
        }
    }

    /** The name of the {@link Callback} method of a hook ({@code on_train_batch_end}: {@code onTrainBatchEnd}). */
    private static String callbackMethod(Hook hook) {
        String method = methodName(hook);
        for (Method candidate : Callback.class.getMethods()) {
            if (candidate.getName().equals(method)) {
                return method;
            }
        }
        return null; // not a Callback hook by that name: every callback is called
    }

    /** The Java name of a hook's method: Lightning's name in camel case. */
    private static String methodName(Hook hook) {
        StringBuilder name = new StringBuilder();
        boolean upper = false;
        for (char c : hook.lightningName().toCharArray()) {
            if (c == '_') {
                upper = true;
            } else {
                name.append(upper ? Character.toUpperCase(c) : c);
                upper = false;
            }
        }
        return name.toString();
    }

    /**
     * Whether the module has its own method of that name, declared below {@link LightningModule}; true also when
     * LightningModule has no method of that name (nothing to compare with, so the hook is always called).
     */
    private static boolean overridesHook(LightningModule module, String method) {
        boolean known = false;
        for (Method candidate : module.getClass().getMethods()) {
            if (candidate.getName().equals(method)) {
                known = true;
                if (candidate.getDeclaringClass() != LightningModule.class) {
                    return true;
                }
            }
        }
        return !known;
    }

    /** Whether the callback's class (or an interface it takes it from) has its own method for the hook. */
    private static boolean implementsHook(Callback callback, String method) {
        for (Method candidate : callback.getClass().getMethods()) {
            if (candidate.getName().equals(method) && candidate.getDeclaringClass() != Callback.class) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether a callback implements the hook. The loops ask before calling the hooks of every batch, so that a batch
     * builds no call for a hook nobody implements.
     *
     * @param hook the hook
     * @return true when {@link #callbacks(Hook, CallbackCall)} would call at least one callback
     */
    public boolean anyCallback(Hook hook) {
        return implementing[hook.ordinal()].length > 0;
    }

    /**
     * Whether a module hook whose default does nothing needs calling: the module overrides it, or a profiler records
     * every hook. The loops skip the others on every batch.
     *
     * @param hook the hook
     * @return true to call it
     */
    public boolean moduleCalls(Hook hook) {
        return profiling || moduleOverrides[hook.ordinal()];
    }

    /** The Trainer. */
    public Trainer trainer() {
        return trainer;
    }

    /** The module. */
    public LightningModule module() {
        return module;
    }

    /** The callbacks in calling order. */
    public List<Callback> callbacks() {
        return callbacks;
    }

    /** The profiler. */
    public Profiler profiler() {
        return profiler;
    }

    /** Whether a profiler records actions. */
    public boolean profiling() {
        return profiling;
    }

    /**
     * Calls a hook on every callback.
     *
     * @param hook which hook, for logging rules and profiling
     * @param call the call
     */
    public void callbacks(Hook hook, CallbackCall call) {
        Hook previous = metrics.hook();
        metrics.setHook(hook);
        try {
            eachCallback(hook, call);
        } finally {
            metrics.setHook(previous);
        }
    }

    private void eachCallback(Hook hook, CallbackCall call) {
        // only the callbacks that implement the hook: calling the others' empty methods costs time on every batch
        int[] targets = implementing[hook.ordinal()];
        for (int i : targets) {
            if (profiling) {
                String action = callbackActions[i][hook.ordinal()];
                profiler.start(action);
                try {
                    call.call(callbacks.get(i));
                } finally {
                    profiler.stop(action);
                }
            } else {
                call.call(callbacks.get(i));
            }
        }
    }

    /**
     * Calls a hook on the callbacks that do or do not monitor metrics (for the train-epoch-end exception).
     *
     * @param hook which hook
     * @param monitoring whether to call the monitoring callbacks or the others
     * @param call the call
     */
    public void callbacks(Hook hook, boolean monitoring, CallbackCall call) {
        callbacks(hook, callback -> {
            if (callback.monitorsMetrics() == monitoring) {
                call.call(callback);
            }
        });
    }

    /**
     * Calls a module hook.
     *
     * @param hook which hook
     * @param call the call
     */
    public void module(Hook hook, Runnable call) {
        Hook previous = metrics.hook();
        metrics.setHook(hook);
        String action = profiling ? moduleActions[hook.ordinal()] : null;
        if (action != null) {
            profiler.start(action);
        }
        try {
            call.run();
        } finally {
            if (action != null) {
                profiler.stop(action);
            }
            metrics.setHook(previous);
        }
    }

    /**
     * Calls a module hook that returns a value.
     *
     * @param hook which hook
     * @param call the call
     * @param <R> the value's type
     * @return what the hook returned
     */
    public <R> R moduleValue(Hook hook, Supplier<R> call) {
        Hook previous = metrics.hook();
        metrics.setHook(hook);
        String action = profiling ? moduleActions[hook.ordinal()] : null;
        if (action != null) {
            profiler.start(action);
        }
        try {
            return call.get();
        } finally {
            if (action != null) {
                profiler.stop(action);
            }
            metrics.setHook(previous);
        }
    }

    /**
     * Calls a hook on every callback and then on the module.
     *
     * @param hook which hook
     * @param callbackCall the callbacks' call
     * @param moduleCall the module's call
     */
    public void both(Hook hook, CallbackCall callbackCall, Runnable moduleCall) {
        callbacks(hook, callbackCall);
        module(hook, moduleCall);
    }

    /**
     * Times a Trainer action that is not a hook (e.g. {@code run_training_batch}).
     *
     * @param action the action's name
     */
    public void start(String action) {
        if (profiling) {
            profiler.start(action);
        }
    }

    /**
     * Stops timing a Trainer action.
     *
     * @param action the action's name
     */
    public void stop(String action) {
        if (profiling) {
            profiler.stop(action);
        }
    }
}
