package io.github.djllightning.log;

import io.github.djllightning.util.ScalarCache;

import ai.djl.ndarray.NDManager;
import io.github.djllightning.trainer.Hook;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The metrics one loop (training, validation, test) has logged, keyed by the hook that logged them and the name. */
final class ResultCollection {

    private final boolean training;
    private final NDManager manager;
    private final ScalarCache scalars;
    private final Map<Hook, Map<String, ResultMetric>> byHook = new EnumMap<>(Hook.class);
    private final List<ResultMetric> all = new ArrayList<>();

    ResultCollection(boolean training, NDManager manager, ScalarCache scalars) {
        this.training = training;
        this.manager = manager;
        this.scalars = scalars;
    }

    boolean isTraining() {
        return training;
    }

    /** Finds or creates the metric, checking that a repeated call uses the same options. */
    ResultMetric metric(
            Hook hook, String name, Integer dataloaderIdx, boolean onStep, boolean onEpoch, LogOptions options) {
        Map<String, ResultMetric> metrics = byHook.computeIfAbsent(hook, h -> new HashMap<>());
        String key = dataloaderIdx == null ? name : name + "\u0000" + dataloaderIdx;
        ResultMetric metric = metrics.get(key);
        if (metric == null) {
            metric = new ResultMetric(hook, name, dataloaderIdx, onStep, onEpoch, options, manager, scalars);
            metrics.put(key, metric);
            all.add(metric);
        } else if (!metric.sameOptions(onStep, onEpoch, options)) {
            throw new IllegalArgumentException(
                    "You called log('" + name + "') twice in " + hook.lightningName() + " with different options ("
                            + metric.differences(onStep, onEpoch, options) + "). Log it with the same options every"
                            + " time, or use another name.");
        }
        return metric;
    }

    /**
     * Puts this collection's current values into the three metric maps, Lightning's {@code metrics(on_step)}.
     *
     * @param onStep step values (during an epoch) or epoch values (at its end)
     * @param dataloaderIdx the evaluation loader whose metrics are wanted, or null
     */
    void collect(
            boolean onStep,
            Integer dataloaderIdx,
            Map<String, Object> callback,
            Map<String, Object> logged,
            Map<String, Object> progressBar) {
        for (int i = 0; i < all.size(); i++) {
            ResultMetric metric = all.get(i);
            if (!metric.hasValue() || !sameIndex(metric.dataloaderIdx, dataloaderIdx)) {
                continue;
            }
            Object value;
            String forkedName;
            if (onStep && metric.onStep) {
                value = metric.stepValue();
                forkedName = metric.stepName;
                if (value == null) {
                    continue;
                }
            } else if (!onStep && metric.onEpoch) {
                value = metric.epochValue();
                forkedName = metric.epochName;
            } else {
                continue;
            }
            if (logged != null && metric.logger) {
                logged.put(forkedName, value);
            }
            if (callback != null && (training || (metric.onEpoch && !onStep))) {
                callback.put(metric.plainName, value);
                callback.put(forkedName, value);
            }
            if (progressBar != null && metric.progBar) {
                progressBar.put(forkedName, value);
            }
        }
    }

    private static boolean sameIndex(Integer a, Integer b) {
        return a == null ? b == null : a.equals(b);
    }

    /** The epoch accumulators of the metrics logged per epoch, for checkpoints. */
    List<Object> stateDict() {
        List<Object> out = new ArrayList<>();
        for (ResultMetric metric : all) {
            if (metric.onEpoch && metric.hasValue()) {
                out.add(metric.stateDict());
            }
        }
        return out;
    }

    /** One saved metric, checked. */
    private static final class Saved {
        final Hook hook;
        final String name;
        final Integer dataloaderIdx;
        final boolean onStep;
        final boolean onEpoch;
        final LogOptions options;
        final boolean tensor;
        final double value;
        final double batchSizes;

        Saved(Map<?, ?> entry) {
            try {
                hook = Hook.valueOf((String) entry.get("hook"));
                name = java.util.Objects.requireNonNull((String) entry.get("name"), "name");
                Object idx = entry.get("dataloader_idx");
                dataloaderIdx = idx == null ? null : ((Number) idx).intValue();
                onStep = Boolean.TRUE.equals(entry.get("on_step"));
                onEpoch = Boolean.TRUE.equals(entry.get("on_epoch"));
                options = LogOptions.defaults()
                        .progBar(Boolean.TRUE.equals(entry.get("prog_bar")))
                        .logger(Boolean.TRUE.equals(entry.get("logger")))
                        .reduce(Reduce.valueOf((String) entry.get("reduce")))
                        .addDataloaderIdx(Boolean.TRUE.equals(entry.get("add_dataloader_idx")));
                tensor = Boolean.TRUE.equals(entry.get("tensor"));
                value = ((Number) entry.get("value")).doubleValue();
                batchSizes = ((Number) entry.get("cumulated_batch_size")).doubleValue();
            } catch (ClassCastException | NullPointerException | IllegalArgumentException e) {
                throw new IllegalArgumentException("malformed saved metric " + entry + ": " + e.getMessage(), e);
            }
        }
    }

    /**
     * Checks saved entries of {@link #stateDict()} without restoring them.
     *
     * @param state the saved entries
     * @throws IllegalArgumentException naming a malformed entry
     */
    static void check(List<?> state) {
        parse(state);
    }

    private static List<Saved> parse(List<?> state) {
        List<Saved> out = new ArrayList<>();
        for (Object item : state) {
            if (!(item instanceof Map)) {
                throw new IllegalArgumentException("a saved metric must be an object, found " + item);
            }
            out.add(new Saved((Map<?, ?>) item));
        }
        return out;
    }

    /**
     * Restores {@link #stateDict()}.
     *
     * @param state the saved entries
     * @throws IllegalArgumentException naming a malformed entry
     */
    void loadStateDict(List<?> state) {
        for (Saved saved : parse(state)) {
            ResultMetric metric =
                    metric(saved.hook, saved.name, saved.dataloaderIdx, saved.onStep, saved.onEpoch, saved.options);
            metric.loadState(saved.tensor, saved.value, saved.batchSizes);
        }
    }

    void reset() {
        for (ResultMetric metric : all) {
            metric.reset();
        }
    }
}
