package io.github.djllightning.examples.debug;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.dataset.Dataset.Usage;
import ai.djl.training.dataset.RandomAccessDataset;
import io.github.djllightning.callback.ModelSummary;
import io.github.djllightning.callbacks.DeviceStatsMonitor;
import io.github.djllightning.data.DataLoader;
import io.github.djllightning.data.Datasets;
import io.github.djllightning.data.MnistDataset;
import io.github.djllightning.examples.Args;
import io.github.djllightning.examples.autoencoder.LitAutoEncoder;
import io.github.djllightning.profile.AdvancedProfiler;
import io.github.djllightning.trainer.Trainer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The seed's debugging section, step by step, on the MNIST autoencoder: a quick run of every loop
 * ({@code fastDevRun}), shorter epochs ({@code limitTrainBatches} / {@code limitValBatches}), the sanity check
 * ({@code numSanityValSteps}), the model summary at every depth (as a callback and without a fit), the simple and
 * advanced profilers (to files), and the device statistics.
 *
 * <p>Arguments (optional): {@code --root DIR} (where {@code lightning_logs} and the profiler reports go; the working
 * directory).
 */
public final class DebugExample {

    private DebugExample() {}

    /**
     * Runs the steps.
     *
     * @param args the arguments above
     * @throws Exception when MNIST cannot be read
     */
    public static void main(String[] args) throws Exception {
        Map<String, String> options = Args.parse(args, List.of("root"));
        Path root = Path.of(options.getOrDefault("root", "."));
        try (MnistDataset mnist = MnistDataset.builder().usage(Usage.TRAIN).build()) {
            RandomAccessDataset[] split = Datasets.randomSplit(mnist, new long[] {55_000, 5_000}, 42);
            DataLoader train = DataLoader.of(split[0]).batchSize(32).build();
            DataLoader val = DataLoader.of(split[1]).batchSize(32).build();

            System.out.println("== fastDevRun(true): 1 batch of training and of validation, no logger, no checkpoint");
            run(Trainer.builder().defaultRootDir(root).fastDevRun(true).build(), train, val);

            System.out.println("== fastDevRun(7): 7 batches each");
            run(Trainer.builder().defaultRootDir(root).fastDevRun(7).build(), train, val);

            System.out.println("== limitTrainBatches(0.1), limitValBatches(0.01): a tenth of an epoch");
            run(Trainer.builder().defaultRootDir(root).maxEpochs(1).limitTrainBatches(0.1).limitValBatches(0.01)
                    .build(), train, val);

            System.out.println("== limitTrainBatches(10), limitValBatches(5), numSanityValSteps(2), the summary of"
                    + " every layer, the simple profiler and the device statistics");
            run(Trainer.builder().defaultRootDir(root).maxEpochs(1).limitTrainBatches(10).limitValBatches(5)
                    .numSanityValSteps(2).profiler("simple").logEveryNSteps(5)
                    .callbacks(new ModelSummary(-1), new DeviceStatsMonitor()).build(), train, val);

            System.out.println("== the advanced profiler, to files");
            run(Trainer.builder().defaultRootDir(root).maxEpochs(1).limitTrainBatches(20).limitValBatches(5)
                    .enableModelSummary(false).profiler(new AdvancedProfiler(root, "perf_logs")).build(), train, val);
            System.out.println("Profiler report: " + root.resolve("fit-perf_logs.txt") + ", recording: "
                    + root.resolve("fit-perf_logs.jfr"));

            System.out.println("== the summary of a module without fit");
            try (LitAutoEncoder module = LitAutoEncoder.create(); NDManager manager = NDManager.newBaseManager()) {
                // forward() runs only the encoder: the decoder is built from the shape of a code
                module.initialize(manager, DataType.FLOAT32, new Shape(1, 28 * 28));
                module.initializeBlock(module.child("decoder"), new Shape(1, 3));
                System.out.println(ModelSummary.summarize(module, -1));
            }
        }
    }

    private static void run(Trainer trainer, DataLoader train, DataLoader val) {
        try (LitAutoEncoder module = LitAutoEncoder.create()) {
            trainer.fit(module, train, val);
            System.out.println("trained " + trainer.globalStep() + " steps");
        }
    }
}
