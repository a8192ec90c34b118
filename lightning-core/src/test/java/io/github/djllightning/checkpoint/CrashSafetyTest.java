package io.github.djllightning.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.github.djllightning.testing.EngineTest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kills a JVM with SIGKILL while it writes checkpoints in a loop, many times at random moments, and checks after each
 * kill that {@code last.ckpt} is a complete checkpoint of the last generation reported written (or of the one being
 * written, when the kill landed between the rename and the report), and that a partial file only ever exists under a
 * temporary name.
 *
 * <p>System properties: {@code crashSafety.rounds} (default 20) and {@code crashSafety.seed} (default: from the
 * clock; printed, so that a failing run can be repeated).
 */
class CrashSafetyTest extends EngineTest {

    private static final int ROUNDS = Integer.getInteger("crashSafety.rounds", 20);
    private static final int MAX_DELAY_MILLIS = 300;
    /** How long a child may take to load the engine and finish its first write. */
    private static final long START_TIMEOUT_MILLIS = 60_000;
    /** The child stops on its own after this long, whatever happens to the test. */
    private static final long CHILD_LIMIT_MILLIS = 120_000;
    private static final int SIGKILL_EXIT = 128 + 9;
    private static final String EOF = "\u0000EOF";

    @TempDir
    Path root;

    @Test
    @Timeout(value = 10, unit = TimeUnit.MINUTES)
    void killedWriterLeavesTheLastCompleteCheckpointUnderTheFinalName() throws Exception {
        long seed = Long.getLong("crashSafety.seed", System.nanoTime());
        System.out.println("CrashSafetyTest: seed " + seed + " (rerun with -DcrashSafety.seed=" + seed + ")");
        Random random = new Random(seed);
        Path folder = Files.createDirectory(root.resolve("checkpoints"));
        Path logs = Files.createDirectory(root.resolve("logs"));
        Path target = folder.resolve(CheckpointWriterChild.TARGET);

        long started = System.nanoTime();
        long fileGeneration = 0;
        int betweenWrites = 0;
        int duringWrite = 0;
        int afterRename = 0;
        int writesSeen = 0;
        Set<String> leftovers = new TreeSet<>();
        for (int round = 1; round <= ROUNDS; round++) {
            long firstGeneration = fileGeneration + 1;
            int delay = random.nextInt(MAX_DELAY_MILLIS + 1);
            Path log = logs.resolve("child-" + round + ".err");
            Kill kill = runAndKill(folder, firstGeneration, delay, log);
            String where = "round " + round + " (seed " + seed + ", delay " + delay + " ms, child stderr " + log
                    + ")";
            assertThat(kill.lastWrote).as("generation reported written, %s", where)
                    .isGreaterThanOrEqualTo(firstGeneration);
            writesSeen += (int) (kill.lastWrote - firstGeneration + 1);

            long generation = checkCheckpoint(target, where);
            // the file is at least as new as the last write reported; it is newer only by the write in progress,
            // when the kill landed after the rename but before the report
            assertThat(generation).as("generation in %s after %s", target, where)
                    .isBetween(kill.lastWrote, kill.lastWrote + 1);
            boolean inWrite = kill.lastBegun > kill.lastWrote;
            if (generation > kill.lastWrote) {
                assertThat(inWrite).as("a newer generation than reported needs a write in progress, %s", where)
                        .isTrue();
                afterRename++;
            } else if (inWrite) {
                duringWrite++;
            } else {
                betweenWrites++;
            }

            Set<String> temps = checkFolder(folder, where);
            Set<String> fresh = new TreeSet<>(temps);
            fresh.removeAll(leftovers);
            // a temporary file can only be left by the one write that was in progress (under heavy load the kill can
            // land after a write began but before its BEGIN line reached this process, so this is not tied to inWrite)
            assertThat(fresh).as("temporary files left by %s", where).hasSizeLessThanOrEqualTo(1);
            assertThat(temps).as("temporary files of earlier rounds stay as they were, %s", where)
                    .containsAll(leftovers);
            leftovers = temps;
            fileGeneration = generation;
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        System.out.printf("CrashSafetyTest: %d rounds, %d writes reported, last generation %d; kills between writes"
                + " %d, during a write %d, after the rename before the report %d; %d temporary files left; %.1f s%n",
                ROUNDS, writesSeen, fileGeneration, betweenWrites, duringWrite, afterRename, leftovers.size(),
                seconds);
    }

    /** What the child reported before it died. */
    private static final class Kill {
        long lastBegun;
        long lastWrote;
    }

    /**
     * Starts a child, waits for its first completed write, waits {@code delay} more and kills it with SIGKILL.
     *
     * @return the last generations it reported begun and written, including lines read after the kill
     */
    private static Kill runAndKill(Path folder, long firstGeneration, int delay, Path log) throws Exception {
        Path java = Paths.get(System.getProperty("java.home"), "bin", "java");
        List<String> command = new ArrayList<>(List.of(java.toString(), "-Xmx512m", "-Dai.djl.offline=true",
                "-Dai.djl.pytorch.num_threads=1", "-cp", System.getProperty("java.class.path"),
                CheckpointWriterChild.class.getName(), folder.toString(), Long.toString(firstGeneration),
                Long.toString(CHILD_LIMIT_MILLIS)));
        Process process = new ProcessBuilder(command)
                .redirectError(log.toFile())
                .start();
        try {
            BlockingQueue<String> lines = new LinkedBlockingQueue<>();
            Thread reader = new Thread(() -> readLines(process.getInputStream(), lines), "child-stdout");
            reader.setDaemon(true);
            reader.start();

            Kill kill = new Kill();
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(START_TIMEOUT_MILLIS);
            boolean ready = false;
            while (kill.lastWrote == 0) {
                long left = deadline - System.nanoTime();
                String line = left > 0 ? lines.poll(left, TimeUnit.NANOSECONDS) : null;
                if (line == null || EOF.equals(line)) {
                    fail("the child %s within %d ms (READY seen: %s); its stderr: %s", line == null
                            ? "did not complete a write" : "exited before completing a write",
                            START_TIMEOUT_MILLIS, ready, tail(log));
                }
                ready |= "READY".equals(line);
                record(line, kill, ready, log);
            }

            Thread.sleep(delay);
            process.destroyForcibly();
            assertThat(process.waitFor(30, TimeUnit.SECONDS)).as("child exited after the kill").isTrue();
            assertThat(process.exitValue()).as("exit status of a JVM killed by SIGKILL").isEqualTo(SIGKILL_EXIT);

            // whatever the child printed before it died still counts: the pipe holds it until read
            reader.join(TimeUnit.SECONDS.toMillis(30));
            assertThat(reader.isAlive()).as("child's output ended").isFalse();
            for (String line = lines.poll(); line != null && !EOF.equals(line); line = lines.poll()) {
                record(line, kill, true, log);
            }
            return kill;
        } finally {
            if (process.isAlive()) {
                process.destroyForcibly();
                process.waitFor(30, TimeUnit.SECONDS);
            }
        }
    }

    private static void record(String line, Kill kill, boolean ready, Path log) throws IOException {
        if (line.startsWith("BEGIN ") || line.startsWith("WROTE ")) {
            assertThat(ready).as("the child writes only after READY").isTrue();
            long generation = Long.parseLong(line.substring(6));
            if (line.startsWith("BEGIN ")) {
                assertThat(generation).as("generations begun in order").isGreaterThan(kill.lastBegun);
                kill.lastBegun = generation;
            } else {
                assertThat(generation).as("the write reported is the one begun").isEqualTo(kill.lastBegun);
                kill.lastWrote = generation;
            }
        } else if (!"READY".equals(line)) {
            fail("unexpected output from the child: %s; its stderr: %s", line, tail(log));
        }
    }

    /**
     * Reads complete lines only: a line cut by the kill, without its newline, is dropped, so that a number is never
     * read from half a line.
     */
    private static void readLines(InputStream in, BlockingQueue<String> lines) {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        try (in) {
            int b;
            while ((b = in.read()) != -1) {
                if (b == '\n') {
                    lines.add(line.toString(StandardCharsets.UTF_8).strip());
                    line.reset();
                } else {
                    line.write(b);
                }
            }
        } catch (IOException e) {
            // the end of the output
        } finally {
            lines.add(EOF);
        }
    }

    /**
     * Loads the checkpoint with its tensors and checks that everything in it belongs to one generation.
     *
     * @return the generation
     */
    private static long checkCheckpoint(Path target, String where) {
        assertThat(target).as("checkpoint after %s", where).isRegularFile();
        try (NDManager scope = manager.newSubManager()) {
            Map<String, Object> entries;
            Checkpoint checkpoint;
            try {
                entries = CheckpointReader.readEntries(target);
                checkpoint = CheckpointReader.read(target, scope);
            } catch (CheckpointException e) {
                throw new AssertionError("the checkpoint under the final name cannot be read after " + where + ": "
                        + e.getMessage(), e);
            }
            assertThat(checkpoint.entries()).as("entries after %s", where).isEqualTo(entries);
            long generation = (Long) checkpoint.entries().get("global_step");
            assertThat(checkpoint.entries())
                    .as("entries after %s", where)
                    .containsOnlyKeys("format_version", "epoch", "global_step")
                    .containsEntry("format_version", (long) Checkpoints.FORMAT_VERSION)
                    .containsEntry("epoch", generation / CheckpointWriterChild.STEPS_PER_EPOCH);
            assertThat(checkpoint.tensorFiles()).as("tensor groups after %s", where)
                    .containsOnlyKeys("state_dict", "optimizer_states");
            Map<String, NDArray> state = checkpoint.tensors("state_dict");
            assertThat(state).as("state_dict after %s", where)
                    .containsOnlyKeys(CheckpointWriterChild.WEIGHT, CheckpointWriterChild.BIAS);

            NDArray weight = state.get(CheckpointWriterChild.WEIGHT);
            int size = CheckpointWriterChild.SIZE;
            assertThat(weight.getShape()).isEqualTo(new Shape(size, size));
            float[] values = weight.toFloatArray();
            for (int i = 0; i < values.length; i++) {
                float expected = CheckpointWriterChild.weightValue(generation, i);
                if (values[i] != expected) {
                    fail("%s after %s: %s[%d] is %s, but generation %d writes %s; the file mixes writes", target,
                            where, CheckpointWriterChild.WEIGHT, i, values[i], generation, expected);
                }
            }
            checkFilled(state.get(CheckpointWriterChild.BIAS), CheckpointWriterChild.biasValue(generation), where);
            checkFilled(checkpoint.tensors("optimizer_states").get(CheckpointWriterChild.MOMENTUM),
                    CheckpointWriterChild.momentumValue(generation), where);
            return generation;
        }
    }

    private static void checkFilled(NDArray array, float value, String where) {
        assertThat(array).as("tensor after %s", where).isNotNull();
        assertThat(array.getShape()).isEqualTo(new Shape(CheckpointWriterChild.SIZE));
        float[] values = array.toFloatArray();
        for (int i = 0; i < values.length; i++) {
            if (values[i] != value) {
                fail("after %s: element %d is %s, expected %s; the file mixes writes", where, i, values[i], value);
            }
        }
    }

    /**
     * Checks that the folder holds the checkpoint and nothing but the writer's temporary files.
     *
     * @return the names of the temporary files
     */
    private static Set<String> checkFolder(Path folder, String where) throws IOException {
        Set<String> temps = new TreeSet<>();
        List<String> names;
        try (Stream<Path> files = Files.list(folder)) {
            names = files.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
        }
        String prefix = "." + CheckpointWriterChild.TARGET + ".";
        for (String name : names) {
            if (CheckpointWriterChild.TARGET.equals(name)) {
                continue;
            }
            assertThat(name).as("file in %s after %s (all: %s)", folder, where, names)
                    .startsWith(prefix)
                    .endsWith(".tmp")
                    .hasSizeGreaterThan(prefix.length() + ".tmp".length());
            assertThat(folder.resolve(name)).as("temporary file after %s", where).isRegularFile();
            temps.add(name);
        }
        return temps;
    }

    private static String tail(Path log) throws IOException {
        if (!Files.exists(log)) {
            return "(none)";
        }
        String text = Files.readString(log, StandardCharsets.UTF_8);
        return text.length() <= 4000 ? text : "..." + text.substring(text.length() - 4000);
    }
}
