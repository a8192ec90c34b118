package io.github.djllightning.examples.guide;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.github.djllightning.callback.ModelSummary;
import io.github.djllightning.callbacks.DeviceStatsMonitor;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.profile.AdvancedProfiler;
import io.github.djllightning.trainer.Trainer;
import java.nio.file.Path;
import java.util.List;

/** The samples of the debugging page: quick runs, shorter epochs, the model summary, profilers, device statistics. */
public final class DebuggingGuide {

    private DebuggingGuide() {}

    /**
     * Trainers that run a few batches of every loop and stop.
     *
     * @return one that runs 1 batch of each loop, one that runs 7
     */
    public static List<Trainer> quickRuns() {
        // snippet:fast-dev-run
        Trainer oneBatch = Trainer.builder().fastDevRun(true).build();   // 1 batch of training, of validation, stop
        Trainer sevenBatches = Trainer.builder().fastDevRun(7).build();  // 7 batches each
        // end-snippet:fast-dev-run
        return List.of(oneBatch, sevenBatches);
    }

    /**
     * One-epoch Trainers that use part of the data.
     *
     * @return one that uses shares of the loaders, one that uses counts of batches
     */
    public static List<Trainer> shorterEpochs() {
        // snippet:limit-batches
        Trainer shares = Trainer.builder().maxEpochs(1).limitTrainBatches(0.1).limitValBatches(0.01).build();
        Trainer counts = Trainer.builder().maxEpochs(1).limitTrainBatches(10).limitValBatches(5).build();
        // end-snippet:limit-batches
        return List.of(shares, counts);
    }

    /**
     * Prints and returns the summary of every layer of a module whose {@code forward} takes flattened MNIST images,
     * without a fit.
     *
     * @param module the module
     * @param manager where the parameters are created
     * @return the summary
     */
    public static ModelSummary.Summary summaryWithoutFit(LightningModule module, NDManager manager) {
        // snippet:summary
        module.initialize(manager, DataType.FLOAT32, new Shape(1, 28 * 28));
        ModelSummary.Summary summary = ModelSummary.summarize(module, -1);
        System.out.println(summary);
        // end-snippet:summary
        return summary;
    }

    /**
     * One-epoch Trainers that show where the time and the memory go.
     *
     * @return the simple profiler, the advanced profiler, the advanced profiler writing files, and the device
     *     statistics
     */
    public static List<Trainer> bottlenecks() {
        // snippet:bottlenecks
        // a table of every action: mean duration, calls, total time, share of the run
        Trainer simple = Trainer.builder().maxEpochs(1).profiler("simple").build();
        // a Flight Recorder recording, and the hottest methods of every action
        Trainer advanced = Trainer.builder().maxEpochs(1).profiler("advanced").build();
        // the same into files: ./fit-perf_logs.txt and ./fit-perf_logs.jfr
        Trainer toFiles = Trainer.builder().maxEpochs(1).profiler(new AdvancedProfiler(Path.of("."), "perf_logs"))
                .build();
        // CPU use and memory (GPU memory on CUDA) to the loggers
        Trainer deviceStats = Trainer.builder().maxEpochs(1).callbacks(new DeviceStatsMonitor()).build();
        // end-snippet:bottlenecks
        return List.of(simple, advanced, toFiles, deviceStats);
    }
}
