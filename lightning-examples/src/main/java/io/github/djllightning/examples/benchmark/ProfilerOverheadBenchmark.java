package io.github.djllightning.examples.benchmark;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.djl.training.dataset.ArrayDataset;
import ai.djl.training.dataset.Batch;
import io.github.djllightning.callback.Callback;
import io.github.djllightning.data.DataLoader;
import io.github.djllightning.examples.Args;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.optim.OptimizerConfig;
import io.github.djllightning.optim.Sgd;
import io.github.djllightning.profile.Profiler;
import io.github.djllightning.profile.SimpleProfiler;
import io.github.djllightning.trainer.Trainer;
import io.github.djllightning.util.EngineSetup;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;

/**
 * What profiling costs per training step: a one-layer model at batch size 1 (so that the Trainer's own work, not the
 * math, dominates a step) trained with no profiler, with a profiler that is on but records nothing (the cost of
 * timing every hook, minus the bookkeeping), and with the {@link SimpleProfiler}, alternating in one JVM. Prints
 * {@code RESULT profiler=<name> steps_per_s=<median> ratio_to_none=<median of per-round ratios>} (speeds in steps per
 * second of the training thread's CPU time) and, for the simple profiler, the actions timed per step and the cost per
 * action in nanoseconds.
 *
 * <p>Options: {@code --rounds N} (7), {@code --steps N} (2000).
 */
public final class ProfilerOverheadBenchmark {

    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    private ProfilerOverheadBenchmark() {}

    /** A profiler that is on, so the Trainer times every action, but keeps nothing. */
    private static final class OnButIdle implements Profiler {
        @Override
        public void start(String action) {}

        @Override
        public void stop(String action) {}
    }

    /** One linear layer, loss = mean of the outputs squared, SGD. */
    private static final class TinyModule extends LightningModule {
        TinyModule() {
            addChildBlock("layer", Linear.builder().setUnits(2).build());
        }

        @Override
        public NDArray trainingStep(Batch batch, int batchIdx) {
            return forward("layer", batch.getData().head()).square().mean();
        }

        @Override
        public OptimizerConfig configureOptimizers() {
            return OptimizerConfig.of(new Sgd(parameters(), 0.01));
        }
    }

    /**
     * Runs the benchmark.
     *
     * @param args the options above
     * @throws IOException when the temporary folder cannot be made
     */
    public static void main(String[] args) throws IOException {
        Map<String, String> options = Args.parse(args, List.of("rounds", "steps"));
        int rounds = Integer.parseInt(options.getOrDefault("rounds", "7"));
        int steps = Integer.parseInt(options.getOrDefault("steps", "2000"));
        EngineSetup.preferOffline();
        Path root = Files.createTempDirectory("profiler-benchmark");
        List<String> names = List.of("none", "on-but-idle", "simple");
        List<Supplier<Profiler>> profilers = List.of(
                () -> Profiler.NONE, OnButIdle::new, () -> new SimpleProfiler(root, "bench", true));
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray x = manager.randomNormal(new Shape(steps, 32));
            DataLoader loader = DataLoader.of(new ArrayDataset.Builder().setData(x).setSampling(1, false).build())
                    .batchSize(1)
                    .build();
            for (Supplier<Profiler> profiler : profilers) {
                stepsPerSecond(loader, Math.min(steps, 300), profiler.get(), root);
            }
            double[][] speeds = new double[names.size()][rounds];
            long actionsPerStep = 0;
            for (int r = 0; r < rounds; r++) {
                for (int k = 0; k < names.size(); k++) {
                    // rotate the order each round, so a slow drift of the machine does not favour one variant
                    int v = (k + r) % names.size();
                    Profiler profiler = profilers.get(v).get();
                    speeds[v][r] = stepsPerSecond(loader, steps, profiler, root);
                    if (profiler instanceof SimpleProfiler simple) {
                        long calls = 0;
                        for (String action : simple.actions()) {
                            calls += simple.calls(action);
                        }
                        actionsPerStep = calls / steps;
                    }
                }
            }
            for (int v = 0; v < names.size(); v++) {
                double[] ratios = new double[rounds];
                for (int r = 0; r < rounds; r++) {
                    ratios[r] = speeds[v][r] / speeds[0][r];
                }
                System.out.printf(Locale.ROOT, "RESULT profiler=%s steps_per_s=%.1f ratio_to_none=%.3f%n",
                        names.get(v), median(speeds[v]), median(ratios));
            }
            double noneNanos = 1e9 / median(speeds[0]);
            double simpleNanos = 1e9 / median(speeds[2]);
            System.out.printf(Locale.ROOT, "RESULT simple_actions_per_step=%d simple_ns_per_action=%.0f%n",
                    actionsPerStep, (simpleNanos - noneNanos) / Math.max(1, actionsPerStep));
        }
    }

    /**
     * Trains one epoch and returns the training steps per second of the training thread's CPU time (with one
     * intra-op thread the engine computes on that thread), which other processes on a shared machine disturb less
     * than wall time.
     */
    private static double stepsPerSecond(DataLoader loader, int steps, Profiler profiler, Path root) {
        Engine.getInstance().setRandomSeed(42);
        long[] clock = new long[2];
        Callback timer = new Callback() {
            @Override
            public void onTrainStart(Trainer trainer, LightningModule module) {
                clock[0] = THREADS.getCurrentThreadCpuTime();
            }

            @Override
            public void onTrainEnd(Trainer trainer, LightningModule module) {
                clock[1] = THREADS.getCurrentThreadCpuTime();
            }
        };
        Trainer trainer = Trainer.builder()
                .defaultRootDir(root)
                .maxEpochs(1)
                .limitTrainBatches(steps)
                .enableProgressBar(false)
                .enableModelSummary(false)
                .enableCheckpointing(false)
                .logger(false)
                .callbacks(timer)
                .profiler(profiler)
                .build();
        try (TinyModule module = new TinyModule()) {
            trainer.fit(module, loader);
        }
        return steps * 1e9 / (clock[1] - clock[0]);
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }
}
