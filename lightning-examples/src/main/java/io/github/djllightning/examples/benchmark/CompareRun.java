package io.github.djllightning.examples.benchmark;

import ai.djl.engine.Engine;
import ai.djl.training.dataset.Batch;
import ai.djl.training.dataset.Dataset.Usage;
import io.github.djllightning.callback.Callback;
import io.github.djllightning.data.DataLoader;
import io.github.djllightning.data.MnistDataset;
import io.github.djllightning.examples.Args;
import io.github.djllightning.examples.autoencoder.LitAutoEncoder;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.trainer.Trainer;
import io.github.djllightning.trainer.TrainerConfig;
import io.github.djllightning.util.EngineSetup;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One run of the side-by-side comparison with PyTorch Lightning ({@code scripts/compare-lightning.sh}): the seed
 * autoencoder trained on MNIST by our Trainer with its defaults on (progress bar, logger, checkpointing, model
 * summary), in a process of its own, then tested. The data loader is the seed's: batches in file order, no shuffle.
 *
 * <p>Prints one line, {@code RUN impl=ours bs=<n> steps=<n> steps_per_s=<x> startup_s=<x> test_mse=<x>
 * peak_rss_mb=<x> cpu_s=<x>}: training steps per second from the start of the first training step to the end of
 * training, seconds from the start of the process to the first training step, the test-set MSE after training, the
 * peak resident memory of the process ({@code VmHWM}) and its CPU seconds. The Python runs of the comparison print
 * the same line.
 *
 * <p>Options: {@code --batch-size N} (32), {@code --max-steps N} (none: one epoch), {@code --root DIR} (where
 * {@code lightning_logs} goes; a new temporary folder), {@code --seed N} (42), {@code --flush-denormals true|false}
 * (the Trainer's default, true).
 */
public final class CompareRun {

    private CompareRun() {}

    /**
     * Runs one training and prints its {@code RUN} line.
     *
     * @param args the options above
     * @throws IOException when MNIST cannot be read or the log folder cannot be made
     */
    public static void main(String[] args) throws IOException {
        Map<String, String> options = Args.parse(args, List.of("batch-size", "max-steps", "root", "seed", "flush-denormals"));
        int batchSize = Args.intValue(options, "batch-size", 32);
        int maxSteps = Args.intValue(options, "max-steps", -1);
        int seed = Args.intValue(options, "seed", 42);
        boolean flushDenormals = Boolean.parseBoolean(options.getOrDefault("flush-denormals", "true"));
        Path root = options.containsKey("root")
                ? Paths.get(options.get("root"))
                : Files.createTempDirectory("compare-lightning");

        EngineSetup.preferOffline();
        Engine.getInstance().setRandomSeed(seed);
        try (MnistDataset train = MnistDataset.builder().usage(Usage.TRAIN).build();
                MnistDataset test = MnistDataset.builder().usage(Usage.TEST).build()) {
            LitAutoEncoder model = LitAutoEncoder.create();
            DataLoader trainLoader = DataLoader.of(train).batchSize(batchSize).build();
            DataLoader testLoader = DataLoader.of(test).batchSize(256).build();

            StepClock clock = new StepClock();
            TrainerConfig.Builder<Trainer> builder =
                    Trainer.builder().maxEpochs(1).defaultRootDir(root).callbacks(clock);
            if (maxSteps > 0) {
                builder.maxSteps(maxSteps);
            }
            builder.flushDenormals(flushDenormals);
            Trainer trainer = builder.build();
            trainer.fit(model, trainLoader);
            long steps = trainer.globalStep();

            List<Map<String, Double>> results = trainer.test(model, testLoader);
            double testMse = results.get(0).get("test_loss");
            model.close();

            Instant processStart = ProcessHandle.current().info().startInstant()
                    .orElseThrow(() -> new IllegalStateException("the process's start time is not known"));
            double startup = Duration.between(processStart, clock.firstStepWall).toNanos() / 1e9;
            double trainSeconds = (clock.endNanos - clock.firstStepNanos) / 1e9;
            double cpu = ProcessHandle.current().info().totalCpuDuration().map(d -> d.toNanos() / 1e9).orElse(-1.0);
            System.out.printf(Locale.ROOT,
                    "RUN impl=ours bs=%d steps=%d steps_per_s=%.2f startup_s=%.3f test_mse=%.5f peak_rss_mb=%.1f"
                            + " cpu_s=%.2f%n",
                    batchSize, steps, steps / trainSeconds, startup, testMse, peakRssMb(), cpu);
        }
    }

    /** Peak resident memory of this process in MB ({@code VmHWM} in {@code /proc/self/status}); -1 elsewhere. */
    static double peakRssMb() {
        Path status = Paths.get("/proc/self/status");
        if (!Files.isReadable(status)) {
            return -1;
        }
        try {
            for (String line : Files.readAllLines(status)) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
                }
            }
        } catch (IOException e) {
            return -1;
        }
        return -1;
    }

    /** Notes when the first training step starts and when training ends. */
    private static final class StepClock implements Callback {
        private long firstStepNanos = -1;
        private Instant firstStepWall;
        private long endNanos;

        @Override
        public void onTrainBatchStart(Trainer trainer, LightningModule module, Batch batch, int batchIdx) {
            if (firstStepNanos < 0) {
                firstStepNanos = System.nanoTime();
                firstStepWall = Instant.now();
            }
        }

        @Override
        public void onTrainEnd(Trainer trainer, LightningModule module) {
            endNanos = System.nanoTime();
        }
    }
}
