package io.github.djllightning.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.github.djllightning.checkpoint.PyTorchWeightsTest.AutoEncoderBlock;
import io.github.djllightning.testing.EngineTest;
import io.github.djllightning.testing.PythonEnv;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
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

        private PythonEnvironment() {}

        static Path pythonWithTorch() throws IOException, InterruptedException {
            return PythonEnv.pythonWith("import torch, safetensors, safetensors.torch, numpy",
                    List.of("torch", "safetensors", "numpy"), "the PyTorch interop tests");
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
            PythonEnv.Result result = PythonEnv.run(command, workDir, null, SCRIPT_SECONDS);
            System.out.print(result.output());
            if (!result.ok()) {
                System.err.println("Python failed (" + result.describe() + "):\n" + result.errors());
                fail("the PyTorch side failed (" + result.describe() + "): " + PythonEnv.tail(result.errors(), 4000));
            }
            return result.output();
        }
    }
}
