package io.github.djllightning.examples;

import io.github.djllightning.examples.autoencoder.AutoEncoderExample;
import io.github.djllightning.examples.autoencoder.LoadFromCheckpointExample;
import io.github.djllightning.examples.benchmark.CompareRun;
import io.github.djllightning.examples.benchmark.OverheadBenchmark;
import io.github.djllightning.examples.benchmark.ProfilerOverheadBenchmark;
import io.github.djllightning.examples.classifier.MnistClassifierExample;
import io.github.djllightning.examples.cli.ClassifierCli;
import io.github.djllightning.examples.cli.PlainArgsExample;
import io.github.djllightning.examples.debug.DebugExample;
import io.github.djllightning.examples.guide.SyncGuide;
import io.github.djllightning.examples.transfer.TransferLearningExample;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/** Runs an example or benchmark by name: {@code Examples autoencoder --epochs 1}. */
public final class Examples {

    /** An example's entry point. */
    @FunctionalInterface
    private interface Main {
        void run(String[] args) throws Exception;
    }

    private static final Map<String, Main> EXAMPLES = new LinkedHashMap<>();

    static {
        EXAMPLES.put("autoencoder", AutoEncoderExample::main);
        EXAMPLES.put("cli", ClassifierCli::main);
        EXAMPLES.put("compare-run", CompareRun::main);
        EXAMPLES.put("debug", DebugExample::main);
        EXAMPLES.put("load-from-checkpoint", LoadFromCheckpointExample::main);
        EXAMPLES.put("mnist-classifier", MnistClassifierExample::main);
        EXAMPLES.put("overhead-benchmark", OverheadBenchmark::main);
        EXAMPLES.put("plain-args", PlainArgsExample::main);
        EXAMPLES.put("profiler-overhead-benchmark", ProfilerOverheadBenchmark::main);
        EXAMPLES.put("sync-guide", SyncGuide::main);
        EXAMPLES.put("transfer-learning", TransferLearningExample::main);
    }

    private Examples() {}

    /**
     * Runs the example named by the first argument with the other arguments.
     *
     * @param args the name, then the example's arguments
     * @throws Exception what the example throws
     */
    public static void main(String[] args) throws Exception {
        if (args.length == 0 || !EXAMPLES.containsKey(args[0])) {
            System.err.println((args.length == 0 ? "No example named." : "Unknown example '" + args[0] + "'.")
                    + " Examples: " + String.join(", ", EXAMPLES.keySet()));
            System.exit(2);
        }
        EXAMPLES.get(args[0]).run(Arrays.copyOfRange(args, 1, args.length));
    }
}
