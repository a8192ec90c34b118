package io.github.djllightning.trainer;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.djllightning.checkpoint.CheckpointReader;
import io.github.djllightning.testing.BoringModule;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGTERM and SIGINT stop a fit gracefully: a real child JVM receives the signal, saves a checkpoint at the next batch
 * boundary, finishes its logs and exits with the signal's conventional code; the checkpoint resumes training.
 */
class SignalTest {

    @TempDir
    Path root;

    @Test
    @Timeout(180)
    void sigtermSavesACheckpointFinishesTheLogsAndExitsWith143() throws Exception {
        Outcome outcome = runAndSignal("TERM");
        assertThat(outcome.exitCode).as("exit code after SIGTERM").isEqualTo(143);
        checkCheckpoint(outcome);
    }

    @Test
    @Timeout(180)
    void sigintDoesTheSameAndExitsWith130() throws Exception {
        Outcome outcome = runAndSignal("INT");
        assertThat(outcome.exitCode).as("exit code after SIGINT").isEqualTo(130);
        checkCheckpoint(outcome);
    }

    private void checkCheckpoint(Outcome outcome) throws IOException {
        assertThat(outcome.checkpoint).as("the child reported its checkpoint; output: %s", outcome.lines).isNotNull();
        assertThat(outcome.checkpoint.getFileName().toString()).isEqualTo("last.ckpt");
        Map<String, Object> entries = CheckpointReader.readEntries(outcome.checkpoint);
        long step = (Long) entries.get("global_step");
        assertThat(step).as("the checkpoint holds the steps done before the signal").isGreaterThanOrEqualTo(5);
        // the logs were finished: every step up to the checkpoint is in metrics.csv
        Path metrics = outcome.checkpoint.getParent().getParent().resolve("metrics.csv");
        List<String> rows = Files.readAllLines(metrics);
        assertThat(rows.size() - 1).as("rows in %s", metrics).isGreaterThanOrEqualTo((int) step);
        // and training resumes from it
        try (BoringModule module = new BoringModule();
                ai.djl.ndarray.NDManager manager = ai.djl.ndarray.NDManager.newBaseManager()) {
            Trainer trainer = Trainer.builder().defaultRootDir(root.resolve("resumed")).enableProgressBar(false)
                    .enableModelSummary(false).enableCheckpointing(false).logger(false).maxSteps(step + 3).build();
            trainer.fit(module, BoringModule.data(manager, 50), outcome.checkpoint.toString());
            assertThat(trainer.globalStep()).isEqualTo(step + 3);
        }
    }

    private Outcome runAndSignal(String signal) throws Exception {
        Path java = Paths.get(System.getProperty("java.home"), "bin", "java");
        Path dir = root.resolve(signal);
        Process process = new ProcessBuilder(java.toString(), "-Xmx512m", "-Dai.djl.offline=true",
                        "-Dai.djl.pytorch.num_threads=1", "-cp", System.getProperty("java.class.path"),
                        InterruptedTrainingChild.class.getName(), dir.toString())
                .redirectErrorStream(true)
                .start();
        Outcome outcome = new Outcome();
        try (BufferedReader out = new BufferedReader(
                new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            boolean signalled = false;
            while ((line = out.readLine()) != null) {
                outcome.lines.add(line);
                if (!signalled && line.equals("STEP 5")) {
                    // the shell's built-in kill: no procps package needed on a bare machine
                    new ProcessBuilder("sh", "-c", "kill -" + signal + " " + process.pid()).start().waitFor();
                    signalled = true;
                }
                if (line.startsWith("INTERRUPTED ")) {
                    outcome.checkpoint = Paths.get(line.substring("INTERRUPTED ".length()));
                }
            }
        } finally {
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
        outcome.exitCode = process.exitValue();
        return outcome;
    }

    private static final class Outcome {
        final List<String> lines = new ArrayList<>();
        Path checkpoint;
        int exitCode;
    }
}
