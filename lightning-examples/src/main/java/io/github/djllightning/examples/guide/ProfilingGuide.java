package io.github.djllightning.examples.guide;

import io.github.djllightning.profile.AdvancedProfiler;
import io.github.djllightning.profile.PyTorchProfiler;
import io.github.djllightning.profile.SimpleProfiler;
import io.github.djllightning.trainer.Trainer;
import java.nio.file.Path;
import java.util.List;

/** The samples of the profiling page. */
public final class ProfilingGuide {

    private ProfilingGuide() {}

    /**
     * A one-epoch Trainer that prints the simple profiler's table when the fit ends.
     *
     * @return the Trainer
     */
    public static Trainer simple() {
        // snippet:by-name
        Trainer trainer = Trainer.builder().profiler("simple").maxEpochs(1).build();
        // end-snippet:by-name
        return trainer;
    }

    /**
     * One-epoch Trainers whose profilers write their reports to files.
     *
     * @return the simple, the advanced and the PyTorch profiler, each writing files
     */
    public static List<Trainer> toFiles() {
        // snippet:to-files
        // lightning_logs/version_N/fit-perf.txt: the logger's folder, as dirpath is null
        Trainer simple = Trainer.builder().maxEpochs(1).profiler(new SimpleProfiler(null, "perf", true)).build();
        // prof/fit-run1.jfr and prof/fit-run1.txt
        Trainer advanced = Trainer.builder().maxEpochs(1).profiler(new AdvancedProfiler(Path.of("prof"), "run1"))
                .build();
        // lightning_logs/version_N/fit-ops.json and fit-ops.txt: shapes recorded, no memory, the top 20 operators
        Trainer operators = Trainer.builder().maxEpochs(1)
                .profiler(new PyTorchProfiler(null, "ops", true, false, 20)).build();
        // end-snippet:to-files
        return List.of(simple, advanced, operators);
    }
}
