package io.github.djllightning.examples.debug;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The debugging steps of the seed run together and each does what it says. */
class DebugExampleTest {

    @TempDir
    Path root;

    @Test
    void everyDebugAidRunsAndReports() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream previous = System.out;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            DebugExample.main(new String[] {"--root", root.toString()});
        } finally {
            System.setOut(previous);
        }
        String printed = out.toString(StandardCharsets.UTF_8);
        // fastDevRun(true) trains 1 batch, fastDevRun(7) 7, a tenth of the 1,719 batches 171, the limited run 10
        assertThat(printed).contains("trained 1 steps", "trained 7 steps", "trained 171 steps", "trained 10 steps",
                "trained 20 steps");
        // the summary at every depth lists the layers inside the encoder; the simple profiler's table is printed
        assertThat(printed).contains("encoder.0", "decoder.2", "FIT Profiler Report", "run_training_batch");
        // the summary without fit counts all 101,651 parameters
        assertThat(printed).contains("101 K     Total params");
        assertThat(printed).doesNotContain("not created yet");
        // the advanced profiler wrote its report and recording; the device statistics reached the logger
        assertThat(root.resolve("fit-perf_logs.txt")).isRegularFile();
        assertThat(root.resolve("fit-perf_logs.jfr")).isRegularFile();
        assertThat(Files.readString(root.resolve("fit-perf_logs.txt"))).contains("FIT Advanced Profiler Report",
                "Profile stats for:");
    }
}
