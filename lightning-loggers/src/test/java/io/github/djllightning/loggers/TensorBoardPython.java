package io.github.djllightning.loggers;

import java.io.File;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * A Python with the {@code tensorboard} package, from the project's test environment {@code
 * ~/.cache/djl-lightning/pyenv} (another folder with {@code -Ddjl.lightning.pyenv=...}; the PyTorch interop tests of
 * core use the same one). Created when missing and filled with {@code pip install tensorboard}; the calling test is
 * skipped, saying why, when pip cannot get the package.
 */
final class TensorBoardPython {

    private static final long PIP_SECONDS = 300;

    private TensorBoardPython() {}

    /** The result of a finished process. */
    record Result(int exitCode, boolean timedOut, String output, String errors) {
        boolean ok() {
            return !timedOut && exitCode == 0;
        }

        String describe() {
            return timedOut ? "timed out" : "exit code " + exitCode;
        }
    }

    static synchronized Path python() throws IOException, InterruptedException {
        String configured = System.getProperty("djl.lightning.pyenv");
        Path venv = configured != null && !configured.isBlank() ? Path.of(configured)
                : Path.of(System.getProperty("user.home"), ".cache", "djl-lightning", "pyenv");
        boolean windows = System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("windows");
        Path python = windows ? venv.resolve("Scripts").resolve("python.exe") : venv.resolve("bin").resolve("python");
        if (works(python)) {
            return python;
        }
        Files.createDirectories(venv.toAbsolutePath().getParent());
        Path lock = venv.resolveSibling(venv.getFileName() + ".lock");
        // one environment change at a time across test JVMs
        try (FileChannel channel = FileChannel.open(lock, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                FileLock ignored = channel.lock()) {
            if (works(python)) {
                return python;
            }
            if (!Files.isExecutable(python)) {
                Result created = run(List.of("python3", "-m", "venv", venv.toString()), 120);
                Assumptions.assumeTrue(created.ok() && Files.isExecutable(python),
                        () -> "'python3 -m venv " + venv + "' failed (" + created.describe()
                                + "); install Python 3 with venv to check the event files with TensorBoard");
            }
            Result installed = run(List.of(python.toString(), "-m", "pip", "install", "--no-input",
                    "--disable-pip-version-check", "--timeout", "20", "--retries", "0", "tensorboard"), PIP_SECONDS);
            Assumptions.assumeTrue(installed.ok(), () -> "pip could not install tensorboard into " + venv + " ("
                    + installed.describe() + "; no access to a package index?): " + tail(installed.errors()));
            Assumptions.assumeTrue(works(python),
                    () -> "pip installed tensorboard but 'import tensorboard' still fails in " + python);
            return python;
        }
    }

    private static boolean works(Path python) throws IOException, InterruptedException {
        return Files.isExecutable(python) && run(List.of(python.toString(), "-c",
                "from tensorboard.backend.event_processing import event_accumulator"), 120).ok();
    }

    /** Runs a command, its outputs going to files so that neither pipe can fill up and block it. */
    static Result run(List<String> command, long timeoutSeconds) throws IOException, InterruptedException {
        File out = File.createTempFile("tb-out", ".txt");
        File err = File.createTempFile("tb-err", ".txt");
        try {
            ProcessBuilder builder = new ProcessBuilder(new ArrayList<>(command)).redirectOutput(out)
                    .redirectError(err);
            builder.environment().put("PYTHONDONTWRITEBYTECODE", "1");
            builder.environment().put("TF_CPP_MIN_LOG_LEVEL", "3");
            Process process = builder.start();
            process.getOutputStream().close();
            boolean finished = process.waitFor(timeoutSeconds, TimeUnit.SECONDS);
            if (!finished) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
            return new Result(finished ? process.exitValue() : -1, !finished,
                    Files.readString(out.toPath(), StandardCharsets.UTF_8),
                    Files.readString(err.toPath(), StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out.toPath());
            Files.deleteIfExists(err.toPath());
        }
    }

    private static String tail(String text) {
        return text.length() <= 2000 ? text : "..." + text.substring(text.length() - 2000);
    }
}
