package io.github.djllightning.examples.benchmark;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import ai.djl.training.dataset.Batch;
import ai.djl.training.dataset.Dataset.Usage;
import io.github.djllightning.callback.Callback;
import io.github.djllightning.data.BatchIterator;
import io.github.djllightning.data.DataLoader;
import io.github.djllightning.data.MnistDataset;
import io.github.djllightning.examples.Args;
import io.github.djllightning.examples.autoencoder.LitAutoEncoder;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.module.Losses;
import io.github.djllightning.optim.Adam;
import io.github.djllightning.trainer.Trainer;
import io.github.djllightning.util.Denormals;
import io.github.djllightning.util.EngineSetup;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * How much the framework costs per step: the seed autoencoder on MNIST trained (a) by a hand-written DJL loop doing
 * the same math (same layers, same Adam, same batches, denormals flushed as the Trainer does by default) and (b) by
 * our Trainer with its defaults on (progress bar, CSV logging, model summary, checkpointing), alternating a/b in one
 * JVM at batch sizes 1, 32 and 256. Prints
 * {@code RESULT bs=<n> raw_steps_per_s=<x> trainer_steps_per_s=<y> ratio=<r>}: the median speeds, and the median of
 * the per-round ratios (each round runs both loops back to back, so the ratio is robust to the machine's drift), then
 * {@code RESULT bs=<n> cpu_ratio=<r>}, the same ratio on the training thread's CPU time (less sensitive to other
 * processes on a shared machine; with one intra-op thread the engine computes on that thread), and {@code RESULT
 * rss_growth_mb=<z>}: the resident memory growth of a 20,000-step Trainer run at batch 32 between step 2,000 and
 * step 20,000.
 *
 * <p>Options: {@code --rounds N} (9), {@code --bs1-steps N} (3000), {@code --rss-steps N} (20000), {@code
 * --batch-sizes 1,32,256}.
 */
public final class OverheadBenchmark {

    private OverheadBenchmark() {}

    /**
     * Runs the benchmark.
     *
     * @param args the options above
     * @throws IOException when MNIST cannot be read
     */
    public static void main(String[] args) throws IOException {
        Map<String, String> options = Args.parse(args, List.of("rounds", "bs1-steps", "rss-steps", "batch-sizes"));
        int rounds = Integer.parseInt(options.getOrDefault("rounds", "9"));
        int bs1Steps = Integer.parseInt(options.getOrDefault("bs1-steps", "3000"));
        int rssSteps = Integer.parseInt(options.getOrDefault("rss-steps", "20000"));
        int[] batchSizes = Arrays.stream(options.getOrDefault("batch-sizes", "1,32,256").split(","))
                .mapToInt(Integer::parseInt).toArray();
        EngineSetup.preferOffline();
        Path root = Files.createTempDirectory("overhead-benchmark");
        try (MnistDataset train = MnistDataset.builder().usage(Usage.TRAIN).build()) {
            for (int bs : rounds > 0 ? batchSizes : new int[0]) {
                // at least ~1,000 steps per measured run, so each lasts seconds rather than a fraction of one
                int steps = bs == 1 ? bs1Steps : (int) Math.max(train.size() / bs, 1000);
                // one warm-up of each, then alternating measured rounds
                rawLoop(train, bs, Math.min(steps, 200));
                trainerLoop(train, bs, Math.min(steps, 200), root);
                double[] raw = new double[rounds];
                double[] ours = new double[rounds];
                double[] ratios = new double[rounds];
                double[] cpuRatios = new double[rounds];
                for (int r = 0; r < rounds; r++) {
                    // alternate which loop goes first, so slow drifts of the machine cancel out
                    Speed a;
                    Speed b;
                    if (r % 2 == 0) {
                        a = rawLoop(train, bs, steps);
                        b = trainerLoop(train, bs, steps, root);
                    } else {
                        b = trainerLoop(train, bs, steps, root);
                        a = rawLoop(train, bs, steps);
                    }
                    raw[r] = a.perWallSecond();
                    ours[r] = b.perWallSecond();
                    ratios[r] = ours[r] / raw[r];
                    cpuRatios[r] = b.perCpuSecond() / a.perCpuSecond();
                    System.out.printf(Locale.ROOT,
                            "round %d bs=%d raw=%.1f trainer=%.1f steps/s ratio=%.3f cpu_ratio=%.3f%n",
                            r, bs, raw[r], ours[r], ratios[r], cpuRatios[r]);
                }
                System.out.printf(Locale.ROOT,
                        "RESULT bs=%d raw_steps_per_s=%.1f trainer_steps_per_s=%.1f ratio=%.3f%n",
                        bs, median(raw), median(ours), median(ratios));
                System.out.printf(Locale.ROOT, "RESULT bs=%d cpu_ratio=%.3f%n", bs, median(cpuRatios));
            }
            if (rssSteps > 0) {
                double growth = rssGrowth(train, rssSteps, root);
                System.out.printf(Locale.ROOT, "RESULT rss_growth_mb=%.1f%n", growth);
            }
        }
    }

    /** Steps done in a measured stretch, with its wall-clock time and the training thread's CPU time. */
    record Speed(long steps, long wallNanos, long cpuNanos) {
        double perWallSecond() {
            return steps / (wallNanos / 1e9);
        }

        double perCpuSecond() {
            return steps / (cpuNanos / 1e9);
        }
    }

    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    /** The hand-written loop: forward, MSE, backward, Adam, nothing else. */
    static Speed rawLoop(MnistDataset train, int batchSize, int steps) {
        Engine.getInstance().setRandomSeed(42);
        LitAutoEncoder model = LitAutoEncoder.create();
        Adam adam = new Adam(model.parameters(), 1e-3);
        DataLoader loader = DataLoader.of(train).batchSize(batchSize).build();
        NDManager root = model.parameterManager().newSubManager();
        // the Trainer's default arithmetic setting, so that both loops compute alike
        Denormals.enter();
        long start = System.nanoTime();
        long cpuStart = THREADS.getCurrentThreadCpuTime();
        int done = 0;
        try (BatchIterator batches = loader.iterator(root, 0)) {
            while (done < steps && batches.hasNext()) {
                try (Batch batch = batches.next()) {
                    try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                        NDArray x = batch.getData().head().reshape(-1, 28 * 28);
                        NDArray xHat = model.forward(model.child("decoder"), model.forward(model.child("encoder"), x));
                        collector.backward(Losses.mse(xHat, x));
                    }
                    adam.step();
                    adam.zeroGrad();
                }
                done++;
            }
        }
        Speed speed = new Speed(done, System.nanoTime() - start, THREADS.getCurrentThreadCpuTime() - cpuStart);
        Denormals.exit();
        root.close();
        adam.close();
        model.close();
        return speed;
    }

    /** Our Trainer with its defaults on, measured from the first training batch to the end of training. */
    static Speed trainerLoop(MnistDataset train, int batchSize, int steps, Path root) {
        Engine.getInstance().setRandomSeed(42);
        LitAutoEncoder model = LitAutoEncoder.create();
        DataLoader loader = DataLoader.of(train).batchSize(batchSize).build();
        StepTimer timer = new StepTimer();
        Trainer trainer = Trainer.builder()
                .maxSteps(steps)
                .maxEpochs(-1)
                .defaultRootDir(root)
                .callbacks(timer)
                .build();
        trainer.fit(model, loader);
        model.close();
        return timer.speed();
    }

    /** Measures from the first training batch to the end of training. */
    private static final class StepTimer implements Callback {
        private long start;
        private long cpuStart;
        private Speed speed;

        @Override
        public void onTrainStart(Trainer trainer, LightningModule module) {
            start = System.nanoTime();
            cpuStart = THREADS.getCurrentThreadCpuTime();
        }

        @Override
        public void onTrainEnd(Trainer trainer, LightningModule module) {
            speed = new Speed(trainer.globalStep(), System.nanoTime() - start,
                    THREADS.getCurrentThreadCpuTime() - cpuStart);
        }

        Speed speed() {
            return speed;
        }
    }

    /** Resident memory growth (MB) of a long Trainer run at batch 32, between step 2,000 and the last step. */
    static double rssGrowth(MnistDataset train, int steps, Path root) {
        Engine.getInstance().setRandomSeed(42);
        LitAutoEncoder model = LitAutoEncoder.create();
        DataLoader loader = DataLoader.of(train).batchSize(32).shuffle(true).seed(1).build();
        List<Double> samples = new ArrayList<>();
        Callback sampler = new Callback() {
            @Override
            public void onTrainBatchEnd(
                    Trainer trainer, LightningModule module, Map<String, Object> outputs, Batch batch, int batchIdx) {
                long step = trainer.globalStep();
                if (step == Math.min(2000, steps / 10) || step == steps) {
                    samples.add(residentMb());
                }
            }
        };
        Trainer trainer = Trainer.builder()
                .maxSteps(steps)
                .maxEpochs(-1)
                .defaultRootDir(root)
                .callbacks(sampler)
                .build();
        trainer.fit(model, loader);
        model.close();
        System.out.printf(Locale.ROOT, "rss at step %d: %.1f MB, at step %d: %.1f MB%n",
                Math.min(2000, steps / 10), samples.get(0), steps, samples.get(samples.size() - 1));
        return samples.get(samples.size() - 1) - samples.get(0);
    }

    static double residentMb() {
        try {
            for (String line : Files.readAllLines(Paths.get("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot read /proc/self/status", e);
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
