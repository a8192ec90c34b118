package io.github.djllightning.examples.guide;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.djllightning.data.DataLoader;
import io.github.djllightning.data.MnistDataset;
import io.github.djllightning.examples.autoencoder.LitAutoEncoder;
import io.github.djllightning.trainer.Trainer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The profiling page's Trainers print or write the reports the page names. */
class ProfilingGuideTest {

    private static MnistDataset train;

    @BeforeAll
    static void loadMnist() throws Exception {
        train = GuideData.train(10 * 32);
    }

    @AfterAll
    static void closeMnist() {
        train.close();
    }

    private static void fit(Trainer trainer) {
        try (LitAutoEncoder autoencoder = LitAutoEncoder.create()) {
            trainer.fit(autoencoder, DataLoader.of(train).batchSize(32).build());
        }
    }

    @Test
    void theSimpleProfilerByNamePrintsItsTable() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream previous = System.out;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            fit(ProfilingGuide.simple());
        } finally {
            System.setOut(previous);
        }
        assertThat(out.toString(StandardCharsets.UTF_8)).contains("FIT Profiler Report", "run_training_batch",
                "[LightningModule]LitAutoEncoder.training_step", "optimizer_step");
    }

    @Test
    void eachProfilerWritesItsFilesWhereThePageSays() throws Exception {
        FileTime start = FileTime.from(Instant.now().minusSeconds(1));
        List<Trainer> trainers = ProfilingGuide.toFiles();
        trainers.forEach(ProfilingGuideTest::fit);

        Path simple = trainers.get(0).logDir().resolve("fit-perf.txt");
        assertThat(Files.readString(simple)).contains("FIT Profiler Report", "run_training_batch");

        assertThat(Files.getLastModifiedTime(Path.of("prof/fit-run1.jfr"))).isGreaterThan(start);
        assertThat(Files.getLastModifiedTime(Path.of("prof/fit-run1.txt"))).isGreaterThan(start);

        Path logDir = trainers.get(2).logDir();
        // a Chrome trace: the operators, and the Trainer's actions in a row of their own
        assertThat(Files.readString(logDir.resolve("fit-ops.json"))).startsWith("[").contains("aten::addmm",
                "training_step");
        assertThat(Files.readString(logDir.resolve("fit-ops.txt"))).contains("aten::");
    }
}
