package io.github.djllightning.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.inference.Predictor;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.github.djllightning.testing.EngineTest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PyTorchWeightsTest extends EngineTest {

    /** The parameter names of the seed's autoencoder, as PyTorch names them. */
    static final List<String> AUTOENCODER_NAMES = List.of(
            "encoder.0.weight", "encoder.0.bias", "encoder.2.weight", "encoder.2.bias",
            "decoder.0.weight", "decoder.0.bias", "decoder.2.weight", "decoder.2.bias");

    @TempDir
    Path dir;

    /**
     * The seed's autoencoder as a plain block: children {@code encoder} ({@code Linear(784, 64), ReLU,
     * Linear(64, 3)}) and {@code decoder} ({@code Linear(3, 64), ReLU, Linear(64, 784)}); forward reconstructs.
     */
    static final class AutoEncoderBlock extends AbstractBlock {
        private final Block encoder;
        private final Block decoder;

        AutoEncoderBlock() {
            this(64);
        }

        AutoEncoderBlock(int hidden) {
            encoder = addChildBlock("encoder", PyTorchWeightsTest.encoder(hidden));
            decoder = addChildBlock("decoder", new SequentialBlock()
                    .add(Linear.builder().setUnits(hidden).build())
                    .add(Activation.reluBlock())
                    .add(Linear.builder().setUnits(28 * 28).build()));
        }

        Block encoderBlock() {
            return encoder;
        }

        @Override
        protected NDList forwardInternal(ParameterStore store, NDList inputs, boolean training,
                PairList<String, Object> params) {
            return decoder.forward(store, encoder.forward(store, inputs, training), training);
        }

        @Override
        public Shape[] getOutputShapes(Shape[] inputShapes) {
            return decoder.getOutputShapes(encoder.getOutputShapes(inputShapes));
        }

        @Override
        protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
            encoder.initialize(manager, dataType, inputShapes);
            decoder.initialize(manager, dataType, encoder.getOutputShapes(inputShapes));
        }
    }

    static SequentialBlock encoder(int hidden) {
        return new SequentialBlock()
                .add(Linear.builder().setUnits(hidden).build())
                .add(Activation.reluBlock())
                .add(Linear.builder().setUnits(3).build());
    }

    static AutoEncoderBlock autoEncoder(NDManager scope) {
        AutoEncoderBlock block = new AutoEncoderBlock();
        block.initialize(scope, DataType.FLOAT32, new Shape(1, 28 * 28));
        return block;
    }

    static NDArray forward(Block block, NDArray x) {
        return block.forward(new ParameterStore(x.getManager(), false), new NDList(x), false).singletonOrThrow();
    }

    static float maxAbsDiff(NDArray a, NDArray b) {
        assertThat(a.getShape()).isEqualTo(b.getShape());
        return a.sub(b).abs().max().getFloat();
    }

    private List<String> folderListing() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
        }
    }

    @Test
    void exportWritesPyTorchNamesFloat32LittleEndianAndMetadataAndImportRestoresInPlace() throws IOException {
        try (NDManager scope = manager.newSubManager()) {
            AutoEncoderBlock source = autoEncoder(scope);
            Path file = dir.resolve("autoencoder.safetensors");
            PyTorchWeights.exportSafetensors(source, file);
            assertThat(folderListing()).containsExactly("autoencoder.safetensors");

            byte[] bytes = Files.readAllBytes(file);
            long headerLength = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            assertThat(headerLength % 8).isZero();
            assertThat(new String(bytes, 8, (int) headerLength, StandardCharsets.UTF_8))
                    .startsWith("{\"__metadata__\":{\"format\":\"pt\"}");
            SafetensorsReader.Contents contents = SafetensorsReader.read(file);
            assertThat(contents.metadata()).containsExactlyEntriesOf(Map.of("format", "pt"));
            assertThat(contents.tensors().keySet()).containsExactlyElementsOf(AUTOENCODER_NAMES);
            assertThat(contents.tensors().get("encoder.0.weight").shape()).isEqualTo(new Shape(64, 784));
            assertThat(contents.tensors().get("encoder.2.bias").shape()).isEqualTo(new Shape(3));
            assertThat(contents.tensors().get("decoder.2.weight").shape()).isEqualTo(new Shape(784, 64));
            contents.tensors().values().forEach(t -> assertThat(t.dataType()).isEqualTo(DataType.FLOAT32));
            // the first tensor's first value, decoded by hand as little-endian float32
            float first = ByteBuffer.wrap(bytes, (int) (8 + headerLength), 4).order(ByteOrder.LITTLE_ENDIAN).getFloat();
            assertThat(first).isEqualTo(Weights.stateDict(source).get("encoder.0.weight").toFloatArray()[0]);

            AutoEncoderBlock target = autoEncoder(scope);
            Map<String, NDArray> before = Weights.stateDict(target);
            PyTorchWeights.importSafetensors(target, file);
            Map<String, NDArray> after = Weights.stateDict(target);
            for (String name : AUTOENCODER_NAMES) {
                assertThat(after.get(name)).as(name).isSameAs(before.get(name));
                assertThat(after.get(name).toFloatArray()).as(name)
                        .containsExactly(Weights.stateDict(source).get(name).toFloatArray());
            }
            NDArray x = scope.randomUniform(0f, 1f, new Shape(5, 784));
            assertThat(maxAbsDiff(forward(source, x), forward(target, x))).isZero();

            // exporting again replaces the file atomically, leaving no temporary file
            PyTorchWeights.exportSafetensors(target, file);
            assertThat(folderListing()).containsExactly("autoencoder.safetensors");
        }
    }

    @Test
    void importIsStrictAboutKeysAndShapesAndChangesNothingOnError() {
        try (NDManager scope = manager.newSubManager()) {
            AutoEncoderBlock target = autoEncoder(scope);
            float[] original = Weights.stateDict(target).get("encoder.0.weight").toFloatArray();

            SequentialBlock bareEncoder = encoder(64);
            bareEncoder.initialize(scope, DataType.FLOAT32, new Shape(1, 784));
            Path encoderFile = dir.resolve("encoder.safetensors");
            PyTorchWeights.exportSafetensors(bareEncoder, encoderFile);
            assertThatThrownBy(() -> PyTorchWeights.importSafetensors(target, encoderFile))
                    .isInstanceOf(CheckpointException.class)
                    .hasMessageContaining("encoder.safetensors")
                    .hasMessageContaining("missing keys: [decoder.0.bias, decoder.0.weight, decoder.2.bias,"
                            + " decoder.2.weight, encoder.0.bias, encoder.0.weight, encoder.2.bias, encoder.2.weight]")
                    .hasMessageContaining("unexpected keys: [0.bias, 0.weight, 2.bias, 2.weight]");

            AutoEncoderBlock narrow = new AutoEncoderBlock(32);
            narrow.initialize(scope, DataType.FLOAT32, new Shape(1, 784));
            Path narrowFile = dir.resolve("narrow.safetensors");
            PyTorchWeights.exportSafetensors(narrow, narrowFile);
            assertThatThrownBy(() -> PyTorchWeights.importSafetensors(target, narrowFile))
                    .isInstanceOf(CheckpointException.class)
                    .hasMessageContaining("narrow.safetensors: encoder.0.weight")
                    .hasMessageContaining("the module has (64, 784), the file has (32, 784)");

            assertThat(Weights.stateDict(target).get("encoder.0.weight").toFloatArray()).containsExactly(original);
        }
    }

    @Test
    void importConvertsOtherFloatTypesAndRefusesTensorFlowLayout() throws IOException {
        try (NDManager scope = manager.newSubManager()) {
            SequentialBlock block = encoder(4);
            block.initialize(scope, DataType.FLOAT32, new Shape(1, 5));
            Map<String, NDArray> doubles = new LinkedHashMap<>();
            for (Map.Entry<String, NDArray> e : Weights.stateDict(block).entrySet()) {
                doubles.put(e.getKey(), scope.full(e.getValue().getShape(), 0.25f).toType(DataType.FLOAT64, false));
            }
            Path file = dir.resolve("f64.safetensors");
            try (var out = Files.newOutputStream(file)) {
                SafetensorsWriter.write(doubles, out);
            }
            PyTorchWeights.importSafetensors(block, file);
            NDArray weight = Weights.stateDict(block).get("0.weight");
            assertThat(weight.getDataType()).isEqualTo(DataType.FLOAT32);
            assertThat(weight.toFloatArray()).containsOnly(0.25f);

            // a header with "format": "tf"
            ByteArrayOutputStream plain = new ByteArrayOutputStream();
            SafetensorsWriter.write(Weights.stateDict(block), plain);
            byte[] bytes = plain.toByteArray();
            int length = (int) ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            String header = new String(bytes, 8, length, StandardCharsets.UTF_8).trim();
            String tfHeader = "{\"__metadata__\":{\"format\":\"tf\"}," + header.substring(1);
            byte[] json = (tfHeader + " ".repeat((8 - tfHeader.length() % 8) % 8)).getBytes(StandardCharsets.UTF_8);
            ByteArrayOutputStream tf = new ByteArrayOutputStream();
            tf.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(json.length).array());
            tf.write(json);
            tf.write(bytes, 8 + length, bytes.length - 8 - length);
            Path tfFile = dir.resolve("tf.safetensors");
            Files.write(tfFile, tf.toByteArray());
            assertThatThrownBy(() -> PyTorchWeights.importSafetensors(block, tfFile))
                    .isInstanceOf(CheckpointException.class)
                    .hasMessageContaining("__metadata__.format")
                    .hasMessageContaining("tf layout");
        }
    }

    private Path writeCheckpoint(AutoEncoderBlock trained) {
        Checkpoint checkpoint = new Checkpoint();
        checkpoint.entries().put("format_version", Checkpoints.FORMAT_VERSION);
        checkpoint.entries().put("epoch", 3);
        checkpoint.entries().put("global_step", 120);
        checkpoint.tensors("state_dict").putAll(Weights.stateDict(trained));
        Path ckpt = dir.resolve("epoch=3-step=120.ckpt");
        CheckpointWriter.write(checkpoint, ckpt);
        return ckpt;
    }

    @Test
    void fromCheckpointLoadsThePrefixedWeightsIntoAPlainBlock() {
        try (NDManager scope = manager.newSubManager()) {
            AutoEncoderBlock trained = autoEncoder(scope);
            Path ckpt = writeCheckpoint(trained);

            SequentialBlock encoder = encoder(64);
            encoder.initialize(scope, DataType.FLOAT32, new Shape(1, 784));
            NDArray weightObject = Weights.stateDict(encoder).get("0.weight");
            PyTorchWeights.fromCheckpoint(ckpt, "encoder.", encoder);
            assertThat(Weights.stateDict(encoder).get("0.weight")).isSameAs(weightObject);
            for (String name : List.of("0.weight", "0.bias", "2.weight", "2.bias")) {
                assertThat(Weights.stateDict(encoder).get(name).toFloatArray()).as(name)
                        .containsExactly(Weights.stateDict(trained).get("encoder." + name).toFloatArray());
            }
            NDArray x = scope.randomUniform(0f, 1f, new Shape(4, 784));
            assertThat(maxAbsDiff(forward(trained.encoderBlock(), x), forward(encoder, x))).isZero();

            // the trailing dot is optional
            SequentialBlock again = encoder(64);
            again.initialize(scope, DataType.FLOAT32, new Shape(1, 784));
            PyTorchWeights.fromCheckpoint(ckpt, "encoder", again);
            assertThat(maxAbsDiff(forward(trained.encoderBlock(), x), forward(again, x))).isZero();

            // an empty prefix takes the whole state dict
            AutoEncoderBlock whole = autoEncoder(scope);
            PyTorchWeights.fromCheckpoint(ckpt, "", whole);
            assertThat(maxAbsDiff(forward(trained, x), forward(whole, x))).isZero();
        }
    }

    @Test
    void fromCheckpointNamesTheExistingPrefixesAndRefusesMismatchedWeights() {
        try (NDManager scope = manager.newSubManager()) {
            Path ckpt = writeCheckpoint(autoEncoder(scope));
            SequentialBlock encoder = encoder(64);
            encoder.initialize(scope, DataType.FLOAT32, new Shape(1, 784));

            assertThatThrownBy(() -> PyTorchWeights.fromCheckpoint(ckpt, "enc", encoder))
                    .isInstanceOf(CheckpointException.class)
                    .hasMessageContaining(ckpt.toAbsolutePath().toString())
                    .hasMessageContaining("no weight name starts with 'enc.'")
                    .hasMessageContaining("the prefixes in this checkpoint are [decoder., encoder.]");
            assertThatThrownBy(() -> PyTorchWeights.fromCheckpoint(ckpt, "model.encoder.", encoder))
                    .hasMessageContaining("[decoder.0., decoder.2., encoder.0., encoder.2.]");
            // the decoder's weights have other shapes than the encoder's
            assertThatThrownBy(() -> PyTorchWeights.fromCheckpoint(ckpt, "decoder.", encoder))
                    .isInstanceOf(CheckpointException.class)
                    .hasMessageContaining("prefix 'decoder.'")
                    .hasMessageContaining("the module has (64, 784), the file has (64, 3)");
            assertThatThrownBy(() -> PyTorchWeights.fromCheckpoint(dir.resolve("none.ckpt"), "encoder.", encoder))
                    .isInstanceOf(CheckpointException.class)
                    .hasMessageContaining("no such file");
        }
    }

    @Test
    void savedDjlModelLoadsWithCriteriaAndPredictsLikeTheOriginal() throws Exception {
        try (NDManager scope = manager.newSubManager()) {
            AutoEncoderBlock trained = autoEncoder(scope);
            Path ckpt = writeCheckpoint(trained);
            SequentialBlock encoder = encoder(64);
            encoder.initialize(scope, DataType.FLOAT32, new Shape(1, 784));
            PyTorchWeights.fromCheckpoint(ckpt, "encoder.", encoder);

            Path modelDir = dir.resolve("encoder-model");
            Path params = PyTorchWeights.saveDjlModel(encoder, modelDir, "encoder");
            assertThat(params).isEqualTo(modelDir.resolve("encoder-0000.params"));
            try (Stream<Path> files = Files.list(modelDir)) {
                assertThat(files.map(p -> p.getFileName().toString())).containsExactly("encoder-0000.params");
            }

            NDArray x = scope.randomUniform(0f, 1f, new Shape(6, 784));
            NDArray expected = forward(trained.encoderBlock(), x);
            Criteria<NDList, NDList> criteria = Criteria.builder()
                    .setTypes(NDList.class, NDList.class)
                    .optModelPath(modelDir)
                    .optModelName("encoder")
                    .optBlock(encoder(64))
                    .build();
            try (ZooModel<NDList, NDList> model = criteria.loadModel();
                    Predictor<NDList, NDList> predictor = model.newPredictor()) {
                NDArray predicted = predictor.predict(new NDList(x)).singletonOrThrow();
                assertThat(predicted.getShape()).isEqualTo(new Shape(6, 3));
                assertThat(maxAbsDiff(expected, predicted)).isZero();
            }

            // the whole autoencoder too, saved twice: the newer file is the one loaded
            Path aeDir = dir.resolve("autoencoder-model");
            PyTorchWeights.saveDjlModel(autoEncoder(scope), aeDir, "autoencoder");
            assertThat(PyTorchWeights.saveDjlModel(trained, aeDir, "autoencoder"))
                    .isEqualTo(aeDir.resolve("autoencoder-0001.params"));
            try (Stream<Path> files = Files.list(aeDir)) {
                assertThat(files.map(p -> p.getFileName().toString()).sorted())
                        .containsExactly("autoencoder-0000.params", "autoencoder-0001.params");
            }
            Criteria<NDList, NDList> aeCriteria = Criteria.builder()
                    .setTypes(NDList.class, NDList.class)
                    .optModelPath(aeDir)
                    .optModelName("autoencoder")
                    .optBlock(new AutoEncoderBlock())
                    .build();
            try (ZooModel<NDList, NDList> model = aeCriteria.loadModel();
                    Predictor<NDList, NDList> predictor = model.newPredictor()) {
                NDArray predicted = predictor.predict(new NDList(x)).singletonOrThrow();
                assertThat(maxAbsDiff(forward(trained, x), predicted)).isZero();
            }
        }
    }

    @Test
    void uninitializedBlocksAreRefusedWithHowToInitialize() {
        assertThatThrownBy(() -> PyTorchWeights.exportSafetensors(encoder(64), dir.resolve("x.safetensors")))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("not initialized")
                .hasMessageContaining("block.initialize");
        assertThatThrownBy(() -> PyTorchWeights.saveDjlModel(encoder(64), dir.resolve("m"), "m"))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("not initialized");
        assertThatThrownBy(() -> PyTorchWeights.saveDjlModel(encoder(64), dir.resolve("m"), "a/b"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(dir.resolve("x.safetensors")).doesNotExist();
    }
}
