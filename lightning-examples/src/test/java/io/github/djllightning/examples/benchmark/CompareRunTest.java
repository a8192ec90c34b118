package io.github.djllightning.examples.benchmark;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One run of the side-by-side comparison prints the line scripts/compare-lightning.sh reads, with sane values. */
class CompareRunTest {

    @TempDir
    Path root;

    @Test
    void trainsWithTheDefaultsAndPrintsTheRunLine() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream previous = System.out;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            CompareRun.main(new String[] {"--batch-size", "32", "--max-steps", "60", "--root", root.toString()});
        } finally {
            System.setOut(previous);
        }
        String line = out.toString(StandardCharsets.UTF_8).lines()
                .filter(l -> l.startsWith("RUN ")).reduce((a, b) -> b).orElseThrow();
        Map<String, String> fields = new HashMap<>();
        Arrays.stream(line.substring(4).split(" ")).map(f -> f.split("=", 2)).forEach(f -> fields.put(f[0], f[1]));

        assertThat(fields).containsKeys("steps_per_s", "startup_s", "test_mse", "peak_rss_mb", "cpu_s");
        assertThat(fields).containsEntry("impl", "ours").containsEntry("bs", "32").containsEntry("steps", "60");
        assertThat(Double.parseDouble(fields.get("steps_per_s"))).isPositive();
        // startup counts from the process start (the test JVM's), so it is positive and the test run is not hours
        assertThat(Double.parseDouble(fields.get("startup_s"))).isPositive().isLessThan(3600);
        // 60 steps of Adam already bring the reconstruction error of the test images well below the untrained ~0.2
        assertThat(Double.parseDouble(fields.get("test_mse"))).isBetween(0.0, 0.12);
        assertThat(Double.parseDouble(fields.get("peak_rss_mb"))).isGreaterThan(50);
        // the defaults were on: the run folder has its checkpoint
        assertThat(root.resolve("lightning_logs/version_0/checkpoints")).isDirectory();
    }
}
