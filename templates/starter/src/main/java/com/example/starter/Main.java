package com.example.starter;

import ai.djl.training.dataset.Batch;
import ai.djl.training.dataset.Dataset.Usage;
import io.github.djllightning.callback.Callback;
import io.github.djllightning.data.DataLoader;
import io.github.djllightning.data.MnistDataset;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.trainer.Trainer;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * Trains {@link LitModel} on MNIST for a few steps and validates it.
 *
 * <p>Arguments (all optional): {@code --steps N} training batches (100), {@code --batch-size N} (32), {@code
 * --val-batches N} validation batches (10), {@code --root DIR} where {@code lightning_logs/} goes (the working
 * directory), {@code --mnist DIR} the folder with the four MNIST IDX files (else {@code MNIST_DIR}, else {@code
 * data/mnist} in the working directory or a parent).
 */
public final class Main {

    private Main() {}

    /**
     * What a run produced.
     *
     * @param trainer the trainer after {@code fit}
     * @param runDir the run folder ({@code lightning_logs/version_N})
     * @param startupMillis milliseconds from the JVM's start to the first training step
     */
    public record Result(Trainer trainer, Path runDir, long startupMillis) {}

    /**
     * Trains from the command line.
     *
     * @param args see the class comment
     * @throws IOException if the MNIST files cannot be read
     */
    public static void main(String[] args) throws IOException {
        Result result = run(args);
        System.out.printf("trained %d steps; run folder %s%n", result.trainer().globalStep(), result.runDir());
    }

    /**
     * Trains and returns what the run produced; prints the start-up time when the first step begins.
     *
     * @param args see the class comment
     * @return the trainer, the run folder and the start-up time
     * @throws IOException if the MNIST files cannot be read
     */
    public static Result run(String... args) throws IOException {
        long mainStart = System.nanoTime();
        Map<String, String> options = parse(args);
        int steps = Integer.parseInt(options.getOrDefault("steps", "100"));
        int batchSize = Integer.parseInt(options.getOrDefault("batch-size", "32"));
        int valBatches = Integer.parseInt(options.getOrDefault("val-batches", "10"));
        Path root = Path.of(options.getOrDefault("root", "."));
        Path mnist = options.containsKey("mnist") ? Path.of(options.get("mnist")) : MnistDataset.defaultRoot();

        StartupTimer timer = new StartupTimer(mainStart);
        try (MnistDataset train = MnistDataset.builder().root(mnist).usage(Usage.TRAIN).build();
                MnistDataset val = MnistDataset.builder().root(mnist).usage(Usage.TEST).build()) {
            Trainer trainer = Trainer.builder()
                    .maxEpochs(1)
                    .limitTrainBatches(steps)
                    .limitValBatches(valBatches)
                    .logEveryNSteps(10)
                    .defaultRootDir(root)
                    .callbacks(timer)
                    .build();
            LitModel model = new LitModel(new LitModel.HParams(128, 1e-3));
            trainer.fit(model, DataLoader.of(train).batchSize(batchSize).build(),
                    DataLoader.of(val).batchSize(256).build());
            return new Result(trainer, trainer.logDir(), timer.sinceJvmStartMillis);
        }
    }

    private static Map<String, String> parse(String[] args) {
        Map<String, String> options = new HashMap<>();
        for (int i = 0; i < args.length; i += 2) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                throw new IllegalArgumentException("expected --name value pairs, got '" + args[i]
                        + "'; use --steps N, --batch-size N, --val-batches N, --root DIR or --mnist DIR");
            }
            options.put(args[i].substring(2), args[i + 1]);
        }
        return options;
    }

    /** Prints how long the process took from start-up to the first training step. */
    private static final class StartupTimer implements Callback {
        private final long mainStart;
        private long sinceJvmStartMillis = -1;

        StartupTimer(long mainStart) {
            this.mainStart = mainStart;
        }

        @Override
        public void onTrainBatchStart(Trainer trainer, LightningModule module, Batch batch, int batchIdx) {
            if (sinceJvmStartMillis < 0) {
                sinceJvmStartMillis = ManagementFactory.getRuntimeMXBean().getUptime();
                long inMain = (System.nanoTime() - mainStart) / 1_000_000;
                System.out.printf("start-up to first step: %d ms since JVM start (%d ms in main)%n",
                        sinceJvmStartMillis, inMain);
            }
        }
    }
}
