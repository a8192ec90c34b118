package io.github.djllightning.testing;

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
 * The Python environment of the interop tests: {@code ~/.cache/djl-lightning/pyenv} (another folder with {@code
 * -Ddjl.lightning.pyenv=...}), created with {@code python3 -m venv} when missing and given the packages a test needs
 * with pip. A test that cannot get them is skipped, saying why (no Python, no venv, no package index).
 */
public final class PythonEnv {

    private static final long PROBE_SECONDS = 120;
    private static final long VENV_SECONDS = 180;
    private static final long PIP_SECONDS = 900;

    /**
     * The outcome of a process.
     *
     * @param exitCode its exit code, -1 after a timeout
     * @param timedOut whether it was killed at the time limit
     * @param seconds the time limit
     * @param output its standard output
     * @param errors its error output (the standard output when that was empty)
     */
    public record Result(int exitCode, boolean timedOut, long seconds, String output, String errors) {
        /** Whether it ended in time with exit code 0. */
        public boolean ok() {
            return !timedOut && exitCode == 0;
        }

        /** The exit code or the timeout, for messages. */
        public String describe() {
            return timedOut ? "timed out after " + seconds + " s" : "exit code " + exitCode;
        }
    }

    private PythonEnv() {}

    /** The environment's folder. */
    public static Path venv() {
        String configured = System.getProperty("djl.lightning.pyenv");
        return configured != null && !configured.isBlank()
                ? Path.of(configured)
                : Path.of(System.getProperty("user.home"), ".cache", "djl-lightning", "pyenv");
    }

    /**
     * A Python that runs {@code importCheck}, installing {@code packages} into the environment when it does not yet;
     * skips the calling test (JUnit assumption) when that cannot be done.
     *
     * @param importCheck Python code that succeeds once the packages are there, e.g. {@code import torch}
     * @param packages what pip installs
     * @param purpose the tests that need it, for the skip message
     * @return the environment's python
     * @throws IOException when a process cannot be started or a file written
     * @throws InterruptedException when interrupted while waiting for pip
     */
    public static synchronized Path pythonWith(String importCheck, List<String> packages, String purpose)
            throws IOException, InterruptedException {
        Path venv = venv();
        Path python = venvPython(venv);
        if (works(python, importCheck)) {
            return python;
        }
        Files.createDirectories(venv.toAbsolutePath().getParent());
        Path lock = venv.resolveSibling(venv.getFileName() + ".lock");
        // one change of the environment at a time across test JVMs: a second one waits, then finds it ready
        try (FileChannel channel = FileChannel.open(lock, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                FileLock ignored = channel.lock()) {
            if (works(python, importCheck)) {
                return python;
            }
            long start = System.nanoTime();
            Path log = venv.resolveSibling(venv.getFileName() + "-setup.log");
            if (!Files.isExecutable(python)) {
                String system = systemPython(purpose);
                System.out.println("Creating the Python environment " + venv + " with " + system);
                Result created = run(List.of(system, "-m", "venv", "--clear", venv.toString()), null, log,
                        VENV_SECONDS);
                Assumptions.assumeTrue(created.ok() && Files.isExecutable(python),
                        () -> "'" + system + " -m venv' failed (" + created.describe() + "); install python3-venv"
                                + " to run " + purpose);
            }
            System.out.println("Installing " + packages + " into " + venv + " (log: " + log + ")");
            List<String> install = new ArrayList<>(List.of(python.toString(), "-m", "pip", "install", "--no-input",
                    "--disable-pip-version-check", "--timeout", "20", "--retries", "0"));
            install.addAll(packages);
            Result installed = run(install, null, log, PIP_SECONDS);
            Assumptions.assumeTrue(installed.ok(), () -> "pip could not install " + packages + " for " + purpose
                    + " (" + installed.describe() + "; no access to a package index?). Output:\n"
                    + tail(installed.output() + installed.errors(), 2000));
            Assumptions.assumeTrue(works(python, importCheck),
                    () -> "pip installed " + packages + " but '" + importCheck + "' still fails in " + python);
            System.out.printf(Locale.ROOT, "Python environment %s ready in %.1f s%n", venv,
                    (System.nanoTime() - start) / 1e9);
            return python;
        }
    }

    private static Path venvPython(Path venv) {
        boolean windows = System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("windows");
        return windows ? venv.resolve("Scripts").resolve("python.exe") : venv.resolve("bin").resolve("python");
    }

    private static boolean works(Path python, String importCheck) throws IOException, InterruptedException {
        return Files.isExecutable(python)
                && run(List.of(python.toString(), "-c", importCheck), null, null, PROBE_SECONDS).ok();
    }

    private static String systemPython(String purpose) throws IOException, InterruptedException {
        for (String candidate : List.of("python3", "python")) {
            try {
                Result version = run(List.of(candidate, "--version"), null, null, 30);
                if (version.ok() && version.output().contains("Python 3")) {
                    return candidate;
                }
            } catch (IOException e) {
                // not on the PATH; try the next name
            }
        }
        Assumptions.abort("no python3 on the PATH; " + purpose + " need Python 3 with venv");
        throw new AssertionError("unreachable");
    }

    /**
     * Runs a command with a time limit, its outputs going to files so that neither pipe can fill up and block it. A
     * command still running at the limit is killed with its child processes.
     *
     * @param command the command
     * @param workDir its working folder, or null
     * @param log where to append both outputs as well, or null
     * @param timeoutSeconds the time limit
     * @return the outcome
     * @throws IOException when the process cannot be started
     * @throws InterruptedException when interrupted while waiting
     */
    public static Result run(List<String> command, Path workDir, Path log, long timeoutSeconds)
            throws IOException, InterruptedException {
        File out = File.createTempFile("python-out", ".txt");
        File err = File.createTempFile("python-err", ".txt");
        try {
            ProcessBuilder builder = new ProcessBuilder(command)
                    .redirectInput(ProcessBuilder.Redirect.from(new File(nullDevice())))
                    .redirectOutput(out)
                    .redirectError(err);
            if (workDir != null) {
                builder.directory(workDir.toFile());
            }
            builder.environment().put("PIP_DISABLE_PIP_VERSION_CHECK", "1");
            builder.environment().put("PYTHONDONTWRITEBYTECODE", "1");
            builder.environment().put("TF_CPP_MIN_LOG_LEVEL", "3");
            Process process = builder.start();
            boolean finished = process.waitFor(timeoutSeconds, TimeUnit.SECONDS);
            if (!finished) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
            String stdout = Files.readString(out.toPath(), StandardCharsets.UTF_8);
            String stderr = Files.readString(err.toPath(), StandardCharsets.UTF_8);
            if (log != null) {
                Files.writeString(log, "$ " + String.join(" ", command) + "\n" + stdout + stderr,
                        StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            }
            return new Result(finished ? process.exitValue() : -1, !finished, timeoutSeconds, stdout,
                    stderr.isEmpty() ? stdout : stderr);
        } finally {
            Files.deleteIfExists(out.toPath());
            Files.deleteIfExists(err.toPath());
        }
    }

    /**
     * The end of a long text.
     *
     * @param text the text
     * @param characters how many characters to keep
     * @return the text, or its last characters after "..."
     */
    public static String tail(String text, int characters) {
        return text.length() <= characters ? text : "..." + text.substring(text.length() - characters);
    }

    private static String nullDevice() {
        return System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("windows") ? "NUL" : "/dev/null";
    }
}
