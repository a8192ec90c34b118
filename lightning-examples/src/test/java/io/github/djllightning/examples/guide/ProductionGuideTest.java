package io.github.djllightning.examples.guide;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.assertj.core.api.Assertions.within;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.training.dataset.Dataset.Usage;
import io.github.djllightning.checkpoint.CheckpointReader;
import io.github.djllightning.checkpoint.ParameterNames;
import io.github.djllightning.checkpoint.PyTorchWeights;
import io.github.djllightning.checkpoint.SafetensorsReader;
import io.github.djllightning.data.DataLoader;
import io.github.djllightning.data.MnistDataset;
import io.github.djllightning.examples.guide.ProductionGuide.AutoEncoderProd;
import io.github.djllightning.examples.guide.ProductionGuide.AutoEncoderSystem;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.testing.PythonEnv;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The samples of {@code docs/production.md}, on an autoencoder trained for one epoch on 640 MNIST images. */
class ProductionGuideTest {

    @TempDir
    static Path trained;

    static Path checkpoint;

    @TempDir
    Path dir;

    @BeforeAll
    static void trainTheSystem() throws Exception {
        Engine.getInstance().setRandomSeed(51);
        try (MnistDataset images = MnistDataset.builder().usage(Usage.TRAIN).limit(640).build()) {
            checkpoint = ProductionGuide.trainAndSave(DataLoader.of(images).batchSize(32).build(), trained);
        }
        assertThat(checkpoint).isEqualTo(trained.resolve("best_model.ckpt")).isRegularFile();
    }

    @Test
    void thePlainBlockFromTheCheckpointServesTheTrainedCodesThroughDjl() throws Exception {
        assertThat(CheckpointReader.readEntries(checkpoint).get("hyper_parameters")).isEqualTo(Map.of("hidden", 64L));
        try (NDManager manager = NDManager.newBaseManager();
                AutoEncoderSystem system = LightningModule.loadFromCheckpoint(AutoEncoderSystem.class, checkpoint)) {
            NDArray images = manager.randomUniform(0, 1, new Shape(5, 28 * 28));
            float[] expected = system.forward(images).toFloatArray();

            AutoEncoderProd model = ProductionGuide.fromCheckpoint(checkpoint, manager);
            assertThat(ParameterNames.of(model).keySet()).containsExactly(
                    "encoder.0.weight", "encoder.0.bias", "encoder.2.weight", "encoder.2.bias",
                    "decoder.0.weight", "decoder.0.bias", "decoder.2.weight", "decoder.2.bias");
            NDArray codes = model.forward(new ParameterStore(manager, false), new NDList(images), false)
                    .singletonOrThrow();
            assertThat(codes.getShape()).isEqualTo(new Shape(5, 3));
            assertThat(codes.toFloatArray()).containsExactly(expected);

            // the encoder alone takes the longer prefix
            Block encoder = new SequentialBlock().add(Linear.builder().setUnits(64).build()).add(Activation::relu)
                    .add(Linear.builder().setUnits(3).build());
            encoder.initialize(manager, DataType.FLOAT32, new Shape(1, 28 * 28));
            PyTorchWeights.fromCheckpoint(checkpoint, "auto_encoder.encoder.", encoder);
            assertThat(encoder.forward(new ParameterStore(manager, false), new NDList(images), false)
                    .singletonOrThrow().toFloatArray()).containsExactly(expected);

            Path modelDir = dir.resolve("models/autoencoder");
            assertThat(ProductionGuide.saveForDjl(model, modelDir))
                    .isEqualTo(modelDir.resolve("autoencoder-0000.params"));
            List<float[]> inputs = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                inputs.add(images.get(i).toFloatArray());
            }
            List<float[]> served = ProductionGuide.serve(modelDir, inputs);
            assertThat(served).hasSize(5);
            for (int i = 0; i < 5; i++) {
                float[] row = new float[3];
                System.arraycopy(expected, i * 3, row, 0, 3);
                assertThat(served.get(i)).as("code of image %d", i).containsExactly(row, within(1e-6f));
            }
        }
    }

    @Test
    void theCheckpointIsAZipOfJsonAndSafetensorsWithPyTorchNames() throws Exception {
        try (ZipFile zip = new ZipFile(checkpoint.toFile())) {
            List<String> names = zip.stream().map(ZipEntry::getName).toList();
            assertThat(names).contains("checkpoint.json", "state_dict.safetensors", "optimizer_states.safetensors");
            String json = new String(zip.getInputStream(zip.getEntry("checkpoint.json")).readAllBytes(),
                    StandardCharsets.UTF_8);
            assertThat(json).contains("\"global_step\": 20").contains("\"hidden\": 64");
            byte[] stateDict = zip.getInputStream(zip.getEntry("state_dict.safetensors")).readAllBytes();
            SafetensorsReader.Contents contents = SafetensorsReader.parse(stateDict, checkpoint, "state_dict");
            assertThat(contents.tensors().keySet()).contains(
                    "auto_encoder.encoder.0.weight", "auto_encoder.encoder.2.bias", "auto_encoder.decoder.2.weight");
            assertThat(contents.tensors().get("auto_encoder.encoder.0.weight").shape()).isEqualTo(new Shape(64, 784));
        }
    }

    @Test
    void thePythonOfThePageLoadsTheWeightsIntoPyTorchAndGivesThemBack() throws Exception {
        Path page = findPage();
        List<String> blocks = pythonBlocks(Files.readString(page));
        assertThat(blocks).as("the Python blocks of " + page).hasSizeGreaterThanOrEqualTo(3);
        Path python = PythonEnv.pythonWith("import torch, safetensors.torch", List.of("torch", "safetensors"),
                "the production guide's Python blocks");

        Files.copy(checkpoint, dir.resolve("best_model.ckpt"));
        try (NDManager manager = NDManager.newBaseManager()) {
            AutoEncoderProd model = ProductionGuide.fromCheckpoint(checkpoint, manager);
            ProductionGuide.exportWeights(model, dir);
            Path script = dir.resolve("page.py");
            Files.writeString(script, String.join("\n", blocks));
            PythonEnv.Result result = PythonEnv.run(List.of(python.toString(), script.toString()), dir, null, 300);
            if (!result.ok()) {
                fail("the page's Python failed (" + result.describe() + "): " + PythonEnv.tail(result.errors(), 4000));
            }
            assertThat(result.output()).contains("checkpoint.json").contains("auto_encoder.encoder.0.weight")
                    .contains("{'hidden': 64}");

            AutoEncoderProd back = new AutoEncoderProd(64);
            back.initialize(manager, DataType.FLOAT32, new Shape(1, 28 * 28));
            ProductionGuide.importWeights(back, dir);
            Map<String, Parameter> original = ParameterNames.of(model);
            ParameterNames.of(back).forEach((name, parameter) -> assertThat(parameter.getArray().toFloatArray())
                    .as(name).containsExactly(original.get(name).getArray().toFloatArray()));
        }
    }

    private static Path findPage() {
        for (Path folder = Path.of("").toAbsolutePath(); folder != null; folder = folder.getParent()) {
            Path page = folder.resolve("docs/production.md");
            if (Files.isRegularFile(page)) {
                return page;
            }
        }
        throw new IllegalStateException("docs/production.md not found above " + Path.of("").toAbsolutePath());
    }

    private static List<String> pythonBlocks(String markdown) {
        List<String> blocks = new ArrayList<>();
        Matcher block = Pattern.compile("(?m)^```python\\n(.*?)^```$", Pattern.DOTALL).matcher(markdown);
        while (block.find()) {
            blocks.add(block.group(1));
        }
        return blocks;
    }
}
