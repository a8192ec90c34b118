package io.github.djllightning.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.github.djllightning.checkpoint.PyTorchWeightsTest.AutoEncoderBlock;
import io.github.djllightning.testing.EngineTest;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.opentest4j.TestAbortedException;

/**
 * Weights exchanged with real PyTorch: the seed autoencoder exported from Java loads into the same module built in
 * PyTorch with {@code load_state_dict(strict=True)}, a PyTorch-initialized module's {@code save_file} output loads
 * into the Java block, and both compute the same outputs on the same input.
 *
 * <p>PyTorch comes from a virtual environment in {@code ~/.cache/djl-lightning/pyenv} (another folder with {@code
 * -Ddjl.lightning.pyenv=...}), created and filled with {@code pip install torch safetensors numpy} on first use and
 * reused afterwards. Where Python or those packages cannot be had (no {@code python3}, no package index), the tests
 * are skipped, saying why.
 */
class PyTorchInteropTest extends EngineTest {

    private static final double TOLERANCE = 1e-5;
    private static final long PROBE_SECONDS = 120;
    private static final long VENV_SECONDS = 180;
    private static final long PIP_SECONDS = 900;
    private static final long SCRIPT_SECONDS = 180;
    private static final int SEED = 20240607;

    private static Path python;
    private static String unavailable;

    @TempDir
    Path dir;

    @BeforeAll
    static void findPyTorch() throws IOException, InterruptedException {
        try {
            python = PythonEnvironment.pythonWithTorch();
        } catch (TestAbortedException e) {
            unavailable = e.getMessage().replaceFirst("^Assumption failed: ", "");
            System.out.println("PyTorch interop tests skipped: " + unavailable);
        }
    }

    /** Skips each test, with the reason, when there is no PyTorch (reported per test rather than per class). */
    @BeforeEach
    void requirePyTorch() {
        Assumptions.assumeTrue(python != null, () -> unavailable);
    }

    /** A fixed input: 8 rows of 784 values in [0, 1], the same on every run. */
    private static NDArray fixedInput(NDManager scope) {
        return scope.arange(8 * 784).toType(DataType.FLOAT32, false).mul(0.37f).sin().abs()
                .reshape(8, 784);
    }

    private void writeInput(NDArray x, Path file) throws IOException {
        try (OutputStream out = Files.newOutputStream(file)) {
            SafetensorsWriter.write(Map.of("input", x), out);
        }
    }

    private static Path script(Path dir) throws IOException {
        Path file = dir.resolve("autoencoder_interop.py");
        try (InputStream in = PyTorchInteropTest.class.getResourceAsStream("/interop/autoencoder_interop.py")) {
            assertThat(in).as("test resource interop/autoencoder_interop.py").isNotNull();
            Files.copy(in, file);
        }
        return file;
    }

    @Test
    void weightsExportedFromJavaLoadStrictlyIntoPyTorchAndGiveTheSameOutputs() throws Exception {
        try (NDManager scope = manager.newSubManager()) {
            AutoEncoderBlock block = PyTorchWeightsTest.autoEncoder(scope);
            Path weights = dir.resolve("java.safetensors");
            PyTorchWeights.exportSafetensors(block, weights);
            NDArray x = fixedInput(scope);
            Path input = dir.resolve("input.safetensors");
            writeInput(x, input);
            Path output = dir.resolve("torch-output.safetensors");

            String stdout = PythonEnvironment.runScript(python, List.of(script(dir).toString(), "load",
                    weights.toString(), input.toString(), output.toString()), dir);
            assertThat(stdout).contains("loaded 8 tensors with strict=True");

            NDArray torchOutput = SafetensorsReader.read(output).create("output", scope);
            NDArray javaOutput = PyTorchWeightsTest.forward(block, x);
            float diff = PyTorchWeightsTest.maxAbsDiff(javaOutput, torchOutput);
            System.out.printf(Locale.ROOT, "Java -> PyTorch: max abs diff of the (8, 784) outputs = %.3e%n", diff);
            assertThat(torchOutput.getShape()).isEqualTo(new Shape(8, 784));
            assertThat((double) diff).isLessThanOrEqualTo(TOLERANCE);
        }
    }

    @Test
    void weightsSavedByPyTorchImportIntoJavaAndGiveTheSameOutputs() throws Exception {
        try (NDManager scope = manager.newSubManager()) {
            NDArray x = fixedInput(scope);
            Path input = dir.resolve("input.safetensors");
            writeInput(x, input);
            Path weights = dir.resolve("torch.safetensors");
            Path output = dir.resolve("torch-output.safetensors");

            String stdout = PythonEnvironment.runScript(python, List.of(script(dir).toString(), "export",
                    Integer.toString(SEED), weights.toString(), input.toString(), output.toString()), dir);
            assertThat(stdout).contains("saved 8 tensors");

            AutoEncoderBlock block = PyTorchWeightsTest.autoEncoder(scope);
            NDArray before = PyTorchWeightsTest.forward(block, x);
            PyTorchWeights.importSafetensors(block, weights);
            NDArray torchOutput = SafetensorsReader.read(output).create("output", scope);
            NDArray javaOutput = PyTorchWeightsTest.forward(block, x);
            float diff = PyTorchWeightsTest.maxAbsDiff(javaOutput, torchOutput);
            System.out.printf(Locale.ROOT, "PyTorch -> Java: max abs diff of the (8, 784) outputs = %.3e%n", diff);
            assertThat((double) diff).isLessThanOrEqualTo(TOLERANCE);
            // the import changed the weights: the randomly initialized block computed something else
            assertThat(PyTorchWeightsTest.maxAbsDiff(before, torchOutput)).isGreaterThan(1e-3f);
        }
    }

    /** Finds or prepares a Python with torch and safetensors, or skips the calling tests saying why. */
    static final class PythonEnvironment {

        private static final String IMPORTS = "import torch, safetensors, safetensors.torch, numpy";

        private PythonEnvironment() {}

        static Path venv() {
            String configured = System.getProperty("djl.lightning.pyenv");
            return configured != null && !configured.isBlank()
                    ? Path.of(configured)
                    : Path.of(System.getProperty("user.home"), ".cache", "djl-lightning", "pyenv");
        }

        static synchronized Path pythonWithTorch() throws IOException, InterruptedException {
            Path venv = venv();
            Path python = venvPython(venv);
            if (works(python)) {
                return python;
            }
            Files.createDirectories(venv.toAbsolutePath().getParent());
            Path lock = venv.resolveSibling(venv.getFileName() + ".lock");
            // one build at a time across test JVMs: a second one waits, then finds the environment ready
            try (FileChannel channel = FileChannel.open(lock, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                    FileLock ignored = channel.lock()) {
                if (works(python)) {
                    return python;
                }
                long start = System.nanoTime();
                Path log = venv.resolveSibling(venv.getFileName() + "-setup.log");
                Files.deleteIfExists(log);
                if (!Files.isExecutable(python)) {
                    String system = systemPython();
                    System.out.println("Creating the Python environment " + venv + " with " + system);
                    Result created = run(List.of(system, "-m", "venv", "--clear", venv.toString()), null, log,
                            VENV_SECONDS);
                    Assumptions.assumeTrue(created.ok() && Files.isExecutable(python),
                            () -> "'" + system + " -m venv' failed (" + created.describe()
                                    + "); install python3-venv to run the PyTorch interop tests");
                }
                System.out.println("Installing torch, safetensors and numpy into " + venv + " (log: " + log + ")");
                Result installed = run(List.of(python.toString(), "-m", "pip", "install", "--no-input",
                        "--disable-pip-version-check", "--timeout", "20", "--retries", "0",
                        "torch", "safetensors", "numpy"), null, log, PIP_SECONDS);
                Assumptions.assumeTrue(installed.ok(), () -> "pip could not install torch, safetensors and"
                        + " numpy (" + installed.describe() + "; no access to a package index?). Output:\n"
                        + tail(installed.output + installed.errors, 2000));
                Assumptions.assumeTrue(works(python), () -> "pip installed the packages but '" + IMPORTS
                        + "' still fails in " + python);
                System.out.printf(Locale.ROOT, "Python environment %s ready in %.1f s%n", venv,
                        (System.nanoTime() - start) / 1e9);
                return python;
            }
        }

        private static Path venvPython(Path venv) {
            boolean windows = System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("windows");
            return windows ? venv.resolve("Scripts").resolve("python.exe") : venv.resolve("bin").resolve("python");
        }

        private static boolean works(Path python) throws IOException, InterruptedException {
            return Files.isExecutable(python)
                    && run(List.of(python.toString(), "-c", IMPORTS), null, null, PROBE_SECONDS).ok();
        }

        private static String systemPython() throws IOException, InterruptedException {
            for (String candidate : List.of("python3", "python")) {
                try {
                    Result version = run(List.of(candidate, "--version"), null, null, 30);
                    if (version.ok() && version.output.contains("Python 3")) {
                        return candidate;
                    }
                } catch (IOException e) {
                    // not on the PATH; try the next name
                }
            }
            Assumptions.abort("no python3 on the PATH; the PyTorch interop tests need Python 3 with venv");
            throw new AssertionError("unreachable");
        }

        /**
         * Runs the interop script and fails the test, printing its error output, when it does not succeed.
         *
         * @return its standard output
         */
        static String runScript(Path python, List<String> arguments, Path workDir)
                throws IOException, InterruptedException {
            List<String> command = new ArrayList<>();
            command.add(python.toString());
            command.addAll(arguments);
            Result result = run(command, workDir, null, SCRIPT_SECONDS);
            System.out.print(result.output);
            if (!result.ok()) {
                System.err.println("Python failed (" + result.describe() + "):\n" + result.errors);
                fail("the PyTorch side failed (" + result.describe() + "): " + tail(result.errors, 4000));
            }
            return result.output;
        }

        /** The outcome of a process: its exit code (or a timeout) and its two output streams. */
        static final class Result {
            final int exitCode;
            final boolean timedOut;
            final long seconds;
            final String output;
            final String errors;

            Result(int exitCode, boolean timedOut, long seconds, String output, String errors) {
                this.exitCode = exitCode;
                this.timedOut = timedOut;
                this.seconds = seconds;
                this.output = output;
                this.errors = errors;
            }

            boolean ok() {
                return !timedOut && exitCode == 0;
            }

            String describe() {
                return timedOut ? "timed out after " + seconds + " s" : "exit code " + exitCode;
            }
        }

        /**
         * Runs a command with a time limit, its outputs going to files so that neither pipe can fill up and block it.
         * A command still running at the limit is killed with its child processes.
         *
         * @param log where to append both outputs as well, or null
         */
        static Result run(List<String> command, Path workDir, Path log, long timeoutSeconds)
                throws IOException, InterruptedException {
            File out = File.createTempFile("interop-out", ".txt");
            File err = File.createTempFile("interop-err", ".txt");
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

        private static String nullDevice() {
            return System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("windows") ? "NUL"
                    : "/dev/null";
        }

        private static String tail(String text, int characters) {
            return text.length() <= characters ? text : "..." + text.substring(text.length() - characters);
        }
    }
}
