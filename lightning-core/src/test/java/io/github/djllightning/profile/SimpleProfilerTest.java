package io.github.djllightning.profile;

import static io.github.djllightning.testing.TestTrainers.quiet;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.djllightning.testing.BoringModule;
import io.github.djllightning.testing.EngineTest;
import io.github.djllightning.trainer.Trainer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The simple profiler on a real fit: counts per action, plausible percentages, the report's file and layout. */
class SimpleProfilerTest extends EngineTest {

    @TempDir
    Path root;

    /** A report row's cells: mean, calls, total, percentage (or mean, total when not extended). */
    private static Map<String, String[]> rows(String report) {
        Map<String, String[]> rows = new HashMap<>();
        for (String line : report.split("\\R")) {
            if (line.startsWith("|")) {
                String[] cells = line.split("\\|");
                String[] values = new String[cells.length - 2];
                for (int i = 2; i < cells.length; i++) {
                    values[i - 2] = cells[i].strip();
                }
                rows.put(cells[1].strip(), values);
            }
        }
        return rows;
    }

    @Test
    void reportsEveryActionWithItsCountToTheDocumentedFile() throws IOException {
        SimpleProfiler profiler = new SimpleProfiler(null, "perf", true);
        Trainer trainer = quiet(root).maxEpochs(2).profiler(profiler).build();
        trainer.fit(new BoringModule(), BoringModule.data(manager, 5), BoringModule.data(manager, 3));

        Path file = root.resolve("fit-perf.txt");
        assertThat(file).exists();
        String report = Files.readString(file);
        assertThat(report).startsWith("FIT Profiler Report");
        Map<String, String[]> rows = rows(report);
        assertThat(rows.get("Action")).containsExactly(
                "Mean duration (s)", "Num calls", "Total time (s)", "Percentage %");
        // 5 batches in each of 2 epochs
        assertThat(rows.get("run_training_batch")[1]).isEqualTo("10");
        assertThat(rows.get("run_training_epoch")[1]).isEqualTo("2");
        assertThat(rows.get("[TrainingEpochLoop].train_dataloader_next")[1]).isEqualTo("10");
        assertThat(rows.get("[LightningModule]BoringModule.training_step")[1]).isEqualTo("10");
        assertThat(rows.get("[LightningModule]BoringModule.backward")[1]).isEqualTo("10");
        assertThat(rows.get("[LightningModule]BoringModule.optimizer_step")[1]).isEqualTo("10");
        // hooks the module does not override are called (and timed) when a profiler is on, as in Lightning
        assertThat(rows.get("[LightningModule]BoringModule.on_before_backward")[1]).isEqualTo("10");
        assertThat(rows.get("[LightningModule]BoringModule.on_train_batch_end")[1]).isEqualTo("10");
        assertThat(rows.get("[LightningModule]BoringModule.on_before_batch_transfer")[1]).isEqualTo("18");
        // 2 sanity-check batches, then 3 per epoch
        assertThat(rows.get("[LightningModule]BoringModule.validation_step")[1]).isEqualTo("8");
        assertThat(rows).anySatisfy((action, cells) -> assertThat(action).startsWith("[Callback]"));

        double epochs = Double.parseDouble(rows.get("run_training_epoch")[3]);
        double batches = Double.parseDouble(rows.get("run_training_batch")[3]);
        assertThat(epochs).isGreaterThan(0).isLessThanOrEqualTo(100);
        assertThat(batches).isGreaterThan(0).isLessThanOrEqualTo(epochs);
        double mean = Double.parseDouble(rows.get("run_training_batch")[0]);
        double total = Double.parseDouble(rows.get("run_training_batch")[2]);
        assertThat(mean * 10).isCloseTo(total, org.assertj.core.data.Percentage.withPercentage(0.1));
        long calls = 0;
        for (Map.Entry<String, String[]> row : rows.entrySet()) {
            if (!row.getKey().equals("Action") && !row.getKey().equals("Total")) {
                calls += Long.parseLong(row.getValue()[1]);
            }
        }
        assertThat(rows.get("Total")[1]).isEqualTo(Long.toString(calls));
        assertThat(rows.get("Total")[3]).isEqualTo("100 %");
        assertThat(profiler.calls("run_training_batch")).isEqualTo(10);
    }

    @Test
    void eachStageReportsItsOwnActionsIntoItsOwnFile() throws IOException {
        SimpleProfiler profiler = new SimpleProfiler(root.resolve("reports"), "perf", false);
        Trainer trainer = quiet(root).maxEpochs(1).profiler(profiler).build();
        BoringModule module = new BoringModule();
        trainer.fit(module, BoringModule.data(manager, 2));
        trainer.test(module, BoringModule.data(manager, 4));

        String test = Files.readString(root.resolve("reports/test-perf.txt"));
        assertThat(root.resolve("reports/fit-perf.txt")).exists();
        Map<String, String[]> rows = rows(test);
        assertThat(rows.get("Action")).containsExactly("Mean duration (s)", "Total time (s)");
        assertThat(rows).containsKey("[LightningModule]BoringModule.test_step").doesNotContainKey("run_training_batch");
        assertThat(profiler.calls("[LightningModule]BoringModule.test_step")).isEqualTo(4);
    }

    @Test
    void byNamePrintsTheReportWhenNoFileIsGiven() {
        Trainer trainer = quiet(root).maxEpochs(1).profiler("Simple").build();
        assertThat(trainer.profiler()).isInstanceOf(SimpleProfiler.class);
        PrintStream previous = System.out;
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        System.setOut(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        try {
            trainer.fit(new BoringModule(), BoringModule.data(manager, 3));
        } finally {
            System.setOut(previous);
        }
        String printed = bytes.toString(StandardCharsets.UTF_8);
        assertThat(printed).contains("FIT Profiler Report");
        assertThat(rows(printed).get("run_training_batch")[1]).isEqualTo("3");
    }

    @Test
    void anUnknownNameListsTheValidOnes() {
        assertThatThrownBy(() -> Trainer.builder().profiler("simpel").build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'simpel'")
                .hasMessageContaining("[simple, advanced, pytorch]");
    }

    @Test
    void startingARunningActionOrStoppingAnIdleOneIsAnError() {
        SimpleProfiler profiler = new SimpleProfiler();
        profiler.setup("fit", root);
        profiler.start("a");
        assertThatThrownBy(() -> profiler.start("a")).hasMessageContaining("'a' was started while it was already");
        profiler.stop("a");
        assertThatThrownBy(() -> profiler.stop("a")).hasMessageContaining("'a' was stopped but never started");
        assertThat(profiler.actions()).isEqualTo(List.of("a"));
    }

    @Test
    void fileNamesLoseUnsafeCharacters() {
        assertThat(ReportingProfiler.fileName("fit", "a/b::c", ".txt")).isEqualTo("fit-a_b_c.txt");
        assertThat(ReportingProfiler.fileName("fit", null, ".jfr")).isEqualTo("fit.jfr");
        assertThat(SimpleProfiler.number(2)).isEqualTo("2.0");
        assertThat(SimpleProfiler.number(0.000012345678)).isEqualTo("1.2346e-05");
    }
}
