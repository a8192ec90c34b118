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
 * the same math (same layers, same Adam, same batch size) and (b) by our Trainer with its defaults on (progress bar,
 * logging, model summary, checkpointing, the non-finite loss guard), at batch sizes 1, 32 and 256.
 *
 * <p>The two alternate in short stretches inside one run: a callback of the Trainer runs a stretch of the hand-written
 * loop (about 60 ms of it) after as many Trainer steps and times it. The Trainer's time is the run's time (from its
 * first training batch to the end of training, the end-of-epoch checkpoint included) less those stretches. A shared
 * machine changes speed over seconds; alternating every few dozen milliseconds exposes both loops to the same speed,
 * which alternating whole runs does not, while each switch (the other loop's arrays back into the caches) stays rare.
 * Both loops run on the same thread with the same engine settings, so the Trainer's default of flushing denormal
 * numbers applies to both.
 *
 * <p>Prints {@code RESULT bs=<n> raw_steps_per_s=<x> trainer_steps_per_s=<y> ratio=<r>} (medians over the rounds;
 * the ratio is the median of the per-round ratios), {@code RESULT bs=<n> cpu_ratio=<r>} (the same on the thread's
 * CPU time), and {@code RESULT rss_growth_mb=<z>}: the resident memory growth of a 20,000-step Trainer run at batch
 * 32 between step 2,000 and step 20,000.
 *
 * <p>Options: {@code --rounds N} (7), {@code --bs1-steps N} (20000), {@code --rss-steps N} (20000), {@code
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
        int rounds = Integer.parseInt(options.getOrDefault("rounds", "7"));
        int bs1Steps = Integer.parseInt(options.getOrDefault("bs1-steps", "20000"));
        int rssSteps = Integer.parseInt(options.getOrDefault("rss-steps", "20000"));
        int[] batchSizes = Arrays.stream(options.getOrDefault("batch-sizes", "1,32,256").split(","))
                .mapToInt(Integer::parseInt).toArray();
        EngineSetup.preferOffline();
        Path root = Files.createTempDirectory("overhead-benchmark");
        try (MnistDataset train = MnistDataset.builder().usage(Usage.TRAIN).build()) {
            for (int bs : rounds > 0 ? batchSizes : new int[0]) {
                // several seconds of each loop per round, so that what a run does once (the model summary, the
                // checkpoint at the end) weighs as little as in a real run; two epochs at batch 32 and 256
                int steps = bs == 1 ? bs1Steps : (int) Math.max(2 * train.size() / bs, 2000);
                int stretch = stretchSteps(bs);
                // warm-up: one unreported round, so that the JIT has compiled both loops' code
                interleaved(train, bs, steps, stretch, root);
                double[] raw = new double[rounds];
                double[] ours = new double[rounds];
                double[] ratios = new double[rounds];
                double[] cpuRatios = new double[rounds];
                for (int r = 0; r < rounds; r++) {
                    Round round = interleaved(train, bs, steps, stretch, root);
                    raw[r] = round.raw().perWallSecond();
                    ours[r] = round.trainer().perWallSecond();
                    ratios[r] = ours[r] / raw[r];
                    cpuRatios[r] = round.trainer().perCpuSecond() / round.raw().perCpuSecond();
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

    /** Hand-written steps per stretch: about 60 ms of them on a CPU (batch 1: 200, batch 32: 35, batch 256: 13). */
    static int stretchSteps(int batchSize) {
        return (int) Math.max(2, Math.round(200 / Math.sqrt(batchSize)));
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

    /** The two loops' speeds in one round. */
    record Round(Speed raw, Speed trainer) {}

    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    /**
     * The hand-written loop: forward, MSE, zero the gradients, backward, Adam, nothing else; it runs on from where it
     * stopped.
     */
    static final class RawLoop implements AutoCloseable {
        private final LitAutoEncoder model;
        private final Adam adam;
        private final DataLoader loader;
        private final NDManager root;
        private BatchIterator batches;
        private long steps;
        private long wallNanos;
        private long cpuNanos;

        RawLoop(MnistDataset train, int batchSize) {
            model = LitAutoEncoder.create();
            adam = new Adam(model.parameters(), 1e-3);
            loader = DataLoader.of(train).batchSize(batchSize).build();
            root = model.parameterManager().newSubManager();
            batches = loader.iterator(root, 0);
        }

        /** Runs and times {@code count} steps. */
        void run(int count) {
            long start = System.nanoTime();
            long cpuStart = THREADS.getCurrentThreadCpuTime();
            for (int i = 0; i < count; i++) {
                if (!batches.hasNext()) {
                    batches.close();
                    batches = loader.iterator(root, 0);
                }
                try (Batch batch = batches.next()) {
                    try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                        NDArray x = batch.getData().head().reshape(-1, 28 * 28);
                        NDArray xHat = model.forward(model.child("decoder"), model.forward(model.child("encoder"), x));
                        NDArray loss = Losses.mse(xHat, x);
                        // torch's usual order, which is also the Trainer's: zero_grad(), backward(), step()
                        adam.zeroGrad();
                        collector.backward(loss);
                    }
                    adam.step();
                }
            }
            wallNanos += System.nanoTime() - start;
            cpuNanos += THREADS.getCurrentThreadCpuTime() - cpuStart;
            steps += count;
        }

        Speed speed() {
            return new Speed(steps, wallNanos, cpuNanos);
        }

        @Override
        public void close() {
            batches.close();
            root.close();
            adam.close();
            model.close();
        }
    }

    /**
     * One round: a Trainer run of {@code steps} steps with its defaults on, and a stretch of the hand-written loop
     * after every {@code stretch} Trainer steps; each loop's time excludes the other's.
     */
    static Round interleaved(MnistDataset train, int batchSize, int steps, int stretch, Path root) {
        Engine.getInstance().setRandomSeed(42);
        try (RawLoop raw = new RawLoop(train, batchSize)) {
            Engine.getInstance().setRandomSeed(42);
            LitAutoEncoder model = LitAutoEncoder.create();
            DataLoader loader = DataLoader.of(train).batchSize(batchSize).build();
            Interleaver interleaver = new Interleaver(raw, stretch);
            Trainer trainer = Trainer.builder()
                    .maxSteps(steps)
                    .maxEpochs(-1)
                    .defaultRootDir(root)
                    .callbacks(interleaver)
                    .build();
            trainer.fit(model, loader);
            model.close();
            Speed rawSpeed = raw.speed();
            Speed total = interleaver.total();
            Speed ours = new Speed(total.steps(), total.wallNanos() - rawSpeed.wallNanos(),
                    total.cpuNanos() - rawSpeed.cpuNanos());
            return new Round(rawSpeed, ours);
        }
    }

    /** Times the Trainer from its first training batch to the end of training, running the raw loop in between. */
    private static final class Interleaver implements Callback {
        private final RawLoop raw;
        private final int stretch;
        private long start;
        private long cpuStart;
        private Speed total;

        Interleaver(RawLoop raw, int stretch) {
            this.raw = raw;
            this.stretch = stretch;
        }

        @Override
        public void onTrainStart(Trainer trainer, LightningModule module) {
            start = System.nanoTime();
            cpuStart = THREADS.getCurrentThreadCpuTime();
        }

        @Override
        public void onTrainBatchEnd(
                Trainer trainer, LightningModule module, Map<String, Object> outputs, Batch batch, int batchIdx) {
            if (trainer.globalStep() % stretch == 0) {
                raw.run(stretch);
            }
        }

        @Override
        public void onTrainEnd(Trainer trainer, LightningModule module) {
            total = new Speed(trainer.globalStep(), System.nanoTime() - start,
                    THREADS.getCurrentThreadCpuTime() - cpuStart);
        }

        Speed total() {
            return total;
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
