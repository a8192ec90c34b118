package io.github.djllightning.module;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.dataset.Batch;
import ai.djl.training.dataset.Dataset.Usage;
import io.github.djllightning.checkpoint.Checkpoint;
import io.github.djllightning.checkpoint.CheckpointException;
import io.github.djllightning.checkpoint.CheckpointReader;
import io.github.djllightning.checkpoint.ParameterNames;
import io.github.djllightning.data.DataLoader;
import io.github.djllightning.data.MnistDataset;
import io.github.djllightning.optim.Adam;
import io.github.djllightning.optim.OptimizerConfig;
import io.github.djllightning.testing.EngineTest;
import io.github.djllightning.testing.TestTrainers;
import io.github.djllightning.trainer.Trainer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code loadFromCheckpoint}: a module trained for a few steps on real MNIST images, saved with {@code
 * saveCheckpoint}, comes back as a new instance with the same weights and outputs, built through its constructor from
 * the stored hyperparameters (with overrides), with the layers passed as extra arguments, or failing clearly.
 */
class LoadFromCheckpointTest extends EngineTest {

    /** 240 real MNIST images; training takes 4 batches of 32. */
    private static MnistDataset train;

    @TempDir
    Path root;

    @BeforeAll
    static void data() throws IOException {
        train = MnistDataset.builder().usage(Usage.TRAIN).limit(240).build();
    }

    @AfterAll
    static void close() {
        train.close();
    }

    // ------------------------------------------------------------------ modules

    /** The activation between the layers, stored by name. */
    enum Act {
        RELU,
        TANH
    }

    /** The seed's autoencoder as hyperparameters: in_dim, the hidden width, lr, a scale on the codes. */
    record HParams(int inDim, int hidden, double lr, float outputScale, Act act) {}

    /** The seed's autoencoder built from a record; its codes are multiplied by {@code outputScale}. */
    static final class LitEncoder extends LightningModule {
        final HParams hp;
        final Block encoder;
        final Block decoder;
        Boolean parametersExistedAtOnLoadCheckpoint;
        Object hyperParametersSeenByOnLoadCheckpoint;

        LitEncoder(HParams hp) {
            this.hp = hp;
            saveHyperparameters(hp);
            encoder = addChildBlock("encoder", mlp(hp.hidden(), 3, hp.act()));
            decoder = addChildBlock("decoder", mlp(hp.hidden(), hp.inDim(), hp.act()));
        }

        static Block mlp(int hidden, int out, Act act) {
            return new SequentialBlock()
                    .add(Linear.builder().setUnits(hidden).build())
                    .add(act == Act.RELU ? Activation::relu : Activation::tanh)
                    .add(Linear.builder().setUnits(out).build());
        }

        @Override
        public NDArray trainingStep(Batch batch, int batchIdx) {
            NDArray x = batch.getData().head().reshape(-1, hp.inDim());
            return forward(decoder, forward(encoder, x)).sub(x).square().mean();
        }

        @Override
        public NDList forward(NDList inputs) {
            return new NDList(forward(encoder, inputs.head().reshape(-1, hp.inDim())).mul(hp.outputScale()));
        }

        @Override
        public OptimizerConfig configureOptimizers() {
            return OptimizerConfig.of(new Adam(parameters(), hp.lr()));
        }

        @Override
        public void onLoadCheckpoint(Checkpoint checkpoint) {
            parametersExistedAtOnLoadCheckpoint = parameters().stream().anyMatch(Parameter::isInitialized);
            hyperParametersSeenByOnLoadCheckpoint = checkpoint.entries().get("hyper_parameters");
        }
    }

    /** Common part of the modules that receive their layers: reconstruct the flattened image. */
    abstract static class PartsModule extends LightningModule {
        final Block encoder;
        final Block decoder;

        PartsModule(Block encoder, Block decoder) {
            this.encoder = addChildBlock("encoder", encoder);
            this.decoder = addChildBlock("decoder", decoder);
        }

        @Override
        public NDArray trainingStep(Batch batch, int batchIdx) {
            NDArray x = batch.getData().head().reshape(-1, 784);
            return forward(decoder, forward(encoder, x)).sub(x).square().mean();
        }

        @Override
        public NDList forward(NDList inputs) {
            return new NDList(forward(encoder, inputs.head().reshape(-1, 784)));
        }

        @Override
        public OptimizerConfig configureOptimizers() {
            return OptimizerConfig.of(new Adam(parameters(), 1e-2));
        }
    }

    /**
     * The seed's {@code Autoencoder(encoder, decoder)}: saves every constructor argument as Lightning's {@code
     * save_hyperparameters()} would, ignoring the layers; the hyperparameters are only recorded.
     */
    static class SeedAutoEncoder extends PartsModule {
        SeedAutoEncoder(Block encoder, Block decoder) {
            super(encoder, decoder);
            Map<String, Object> args = new LinkedHashMap<>();
            args.put("encoder", encoder);
            args.put("decoder", decoder);
            args.put("note", "seed");
            saveHyperparameters(args, "encoder", "decoder");
        }
    }

    /** A subclass adding nothing but its name: loads the checkpoints of its superclass, with a warning. */
    static final class LoudSeedAutoEncoder extends SeedAutoEncoder {
        LoudSeedAutoEncoder(Block encoder, Block decoder) {
            super(encoder, decoder);
        }
    }

    /** Hyperparameters as a map, then the layers; "decoder" ignored, "encoder" left out automatically. */
    static final class MapAutoEncoder extends PartsModule {
        final Map<String, Object> received;

        MapAutoEncoder(Map<String, Object> hparams, Block encoder, Block decoder) {
            super(encoder, decoder);
            received = hparams;
            Map<String, Object> args = new LinkedHashMap<>(hparams);
            args.put("encoder", encoder);
            args.put("decoder", decoder);
            saveHyperparameters(args, "decoder");
        }
    }

    /** The layers' settings as a record, then the layers themselves. */
    record Settings(double lr, String name) {}

    /** A record and the layers. */
    static final class RecordAndLayers extends PartsModule {
        final Settings settings;

        RecordAndLayers(Settings settings, Block encoder, Block decoder) {
            super(encoder, decoder);
            this.settings = settings;
            saveHyperparameters(settings);
        }
    }

    private static Block encoder() {
        return LitEncoder.mlp(16, 3, Act.RELU);
    }

    private static Block decoder() {
        return LitEncoder.mlp(16, 784, Act.RELU);
    }

    // ------------------------------------------------------------------ helpers

    private static final HParams TRAINED = new HParams(784, 32, 1e-2, 1.0f, Act.TANH);

    /** Trains the module for 4 steps of 32 real MNIST images and saves it. */
    private Path trainAndSave(LightningModule module, String name) {
        Trainer trainer = TestTrainers.quiet(root).maxSteps(4).seed(11).build();
        trainer.fit(module, DataLoader.of(train).batchSize(32).shuffle(true).seed(5).build());
        Path file = root.resolve(name + ".ckpt");
        trainer.saveCheckpoint(file);
        return file;
    }

    private static NDArray images(NDManager owner) {
        return owner.randomUniform(0, 1, new Shape(4, 28 * 28));
    }

    private static float[] outputs(LightningModule module, NDArray x) {
        return module.forward(new NDList(x)).head().toFloatArray();
    }

    private static Map<String, float[]> namedWeights(LightningModule module) {
        Map<String, float[]> out = new LinkedHashMap<>();
        ParameterNames.of(module).forEach((name, p) -> out.put(name, p.getArray().toFloatArray()));
        return out;
    }

    // ------------------------------------------------------------------ tests

    @Test
    void aTrainedModuleComesBackWithTheSameWeightsOutputsAndHyperparameters() {
        try (LitEncoder trained = new LitEncoder(TRAINED)) {
            Path file = trainAndSave(trained, "record");
            Map<String, Object> entries = CheckpointReader.readEntries(file);
            assertThat(entries.get("hparams_type")).isEqualTo(HParams.class.getName());
            assertThat(entries.get("hyper_parameters")).isEqualTo(Map.of(
                    "inDim", 784L, "hidden", 32L, "lr", 1e-2, "outputScale", 1.0, "act", "TANH"));

            try (LitEncoder loaded = LightningModule.loadFromCheckpoint(LitEncoder.class, file);
                    NDManager scratch = NDManager.newBaseManager()) {
                assertThat(loaded).isNotSameAs(trained);
                assertThat(loaded.hp).isEqualTo(TRAINED);
                assertThat(loaded.hparams()).isEqualTo(trained.hparams());
                assertThat(loaded.hparams().get("hidden")).isInstanceOf(Integer.class);
                assertThat(loaded.hparamsType()).isEqualTo(HParams.class);
                assertThat(loaded.isTraining()).isFalse();
                Map<String, float[]> expected = namedWeights(trained);
                Map<String, float[]> actual = namedWeights(loaded);
                assertThat(actual.keySet()).containsExactlyElementsOf(expected.keySet());
                expected.forEach((name, values) -> assertThat(actual.get(name)).as(name).containsExactly(values));

                trained.eval();
                NDArray x = images(scratch);
                assertThat(outputs(loaded, x)).containsExactly(outputs(trained, x));
                assertThat(outputs(loaded, x)).hasSize(4 * 3);

                assertThat(loaded.parametersExistedAtOnLoadCheckpoint)
                        .as("onLoadCheckpoint runs before the weights are loaded").isFalse();
                assertThat(loaded.hyperParametersSeenByOnLoadCheckpoint).isEqualTo(entries.get("hyper_parameters"));
            }

            // the loaded module is a LitEncoder when asked for any LightningModule
            try (LightningModule any = LightningModule.loadFromCheckpoint(LightningModule.class, file)) {
                assertThat(any).isInstanceOf(LitEncoder.class);
                assertThat(((LitEncoder) any).hp).isEqualTo(TRAINED);
            }
        }
    }

    @Test
    void anOverrideChangesTheRecordTheHyperparametersAndTheBehaviour() {
        try (LitEncoder trained = new LitEncoder(TRAINED)) {
            Path file = trainAndSave(trained, "override");
            Map<String, Object> overrides = Map.of("outputScale", 2, "lr", 0.5);
            try (LitEncoder loaded = LightningModule.loadFromCheckpoint(LitEncoder.class, file, overrides);
                    NDManager scratch = NDManager.newBaseManager()) {
                assertThat(loaded.hp).isEqualTo(new HParams(784, 32, 0.5, 2.0f, Act.TANH));
                assertThat(loaded.hparams().get("outputScale")).isEqualTo(2.0f);
                assertThat(loaded.hparams().get("lr")).isEqualTo(0.5);
                assertThat(loaded.hparams().get("act")).isEqualTo(Act.TANH);
                assertThat(TestTrainers.sameWeights(TestTrainers.weights(loaded), TestTrainers.weights(trained)))
                        .isTrue();
                @SuppressWarnings("unchecked")
                Map<String, Object> seen = (Map<String, Object>) loaded.hyperParametersSeenByOnLoadCheckpoint;
                assertThat(seen).containsEntry("outputScale", 2).containsEntry("lr", 0.5).containsEntry("hidden", 32L);

                trained.eval();
                NDArray x = images(scratch);
                float[] original = outputs(trained, x);
                float[] scaled = outputs(loaded, x);
                for (int i = 0; i < original.length; i++) {
                    assertThat(scaled[i]).isEqualTo(2 * original[i]);
                }
            }
        }
    }

    @Test
    void aShapeChangingOverrideBuildsTheModuleButCannotLoadTheStoredWeights() {
        try (LitEncoder trained = new LitEncoder(TRAINED)) {
            Path file = trainAndSave(trained, "in_dim");
            assertThatThrownBy(() -> LightningModule.loadFromCheckpoint(LitEncoder.class, file, Map.of("inDim", 128)))
                    .isInstanceOf(CheckpointException.class)
                    .hasMessageContaining(file.toAbsolutePath().toString())
                    .hasMessageContaining("decoder.2.weight")
                    .hasMessageContaining("shape mismatch")
                    .hasMessageContaining("(128, 32)")
                    .hasMessageContaining("(784, 32)");
        }
    }

    @Test
    void theSeedsEncoderAndDecoderArePassedAsExtraArgumentsAndTheHyperparametersOnlyRecorded() {
        String warnings = TestTrainers.capturingStderr(() -> {
            try (SeedAutoEncoder trained = new SeedAutoEncoder(encoder(), decoder())) {
                assertThat(trained.hparams()).isEqualTo(Map.of("note", "seed"));
                Path file = trainAndSave(trained, "seed");

                try (SeedAutoEncoder loaded = LightningModule.loadFromCheckpoint(
                                SeedAutoEncoder.class, file, Map.of(), encoder(), decoder());
                        NDManager scratch = NDManager.newBaseManager()) {
                    assertThat(TestTrainers.sameWeights(TestTrainers.weights(loaded), TestTrainers.weights(trained)))
                            .isTrue();
                    trained.eval();
                    NDArray x = images(scratch);
                    assertThat(outputs(loaded, x)).containsExactly(outputs(trained, x));
                    assertThat(loaded.hparams()).isEqualTo(Map.of("note", "seed"));
                    assertThat(loaded.isTraining()).isFalse();
                }
                // the constructor takes no hyperparameters: an override is only recorded, with a warning
                try (SeedAutoEncoder loaded = LightningModule.loadFromCheckpoint(
                        SeedAutoEncoder.class, file, Map.of("note", "changed"), encoder(), decoder())) {
                    assertThat(loaded.hparams()).isEqualTo(Map.of("note", "changed"));
                }
                // a subclass of the class that saved it
                try (SeedAutoEncoder loaded = LightningModule.loadFromCheckpoint(
                        LoudSeedAutoEncoder.class, file, Map.of(), encoder(), decoder())) {
                    assertThat(loaded).isInstanceOf(LoudSeedAutoEncoder.class);
                    assertThat(TestTrainers.sameWeights(TestTrainers.weights(loaded), TestTrainers.weights(trained)))
                            .isTrue();
                }
            }
        });
        assertThat(warnings).doesNotContain("saveHyperparameters");
        assertThat(warnings).contains("seed.ckpt was saved by a " + SeedAutoEncoder.class.getName()
                + "; loading it into its subclass " + LoudSeedAutoEncoder.class.getName());
        assertThat(warnings).contains("SeedAutoEncoder has no constructor taking its hyperparameters; the overrides"
                + " [note] are only recorded");
    }

    @Test
    void aMapConstructorReceivesTheStoredValuesAndLayersAreLeftOutWithAWarning() {
        String warnings = TestTrainers.capturingStderr(() -> {
            Map<String, Object> hparams = new LinkedHashMap<>();
            hparams.put("lr", 1e-2);
            hparams.put("code", 3);
            try (MapAutoEncoder trained = new MapAutoEncoder(hparams, encoder(), decoder())) {
                assertThat(trained.hparams()).containsOnlyKeys("lr", "code");
                Path file = trainAndSave(trained, "map");
                try (MapAutoEncoder loaded = LightningModule.loadFromCheckpoint(
                                MapAutoEncoder.class, file, Map.of("code", 4), encoder(), decoder());
                        NDManager scratch = NDManager.newBaseManager()) {
                    assertThat(loaded.received).isEqualTo(Map.of("lr", 1e-2, "code", 4));
                    assertThat(loaded.hparams()).isEqualTo(Map.of("lr", 1e-2, "code", 4));
                    trained.eval();
                    NDArray x = images(scratch);
                    assertThat(outputs(loaded, x)).containsExactly(outputs(trained, x));
                }
            }
        });
        assertThat(warnings).contains("MapAutoEncoder.saveHyperparameters: \"encoder\" is a layer (DJL Block), not"
                + " a hyperparameter, and is left out");
        assertThat(warnings).contains("Pass ignore \"encoder\"");
        assertThat(warnings).doesNotContain("\"decoder\" is a layer");
    }

    @Test
    void aRecordFollowedByTheLayers() {
        try (RecordAndLayers trained = new RecordAndLayers(new Settings(1e-2, "a"), encoder(), decoder())) {
            Path file = trainAndSave(trained, "record_layers");
            try (RecordAndLayers loaded = LightningModule.loadFromCheckpoint(
                            RecordAndLayers.class, file, Map.of("name", "b"), encoder(), decoder());
                    NDManager scratch = NDManager.newBaseManager()) {
                assertThat(loaded.settings).isEqualTo(new Settings(1e-2, "b"));
                assertThat(loaded.hparams()).isEqualTo(Map.of("lr", 1e-2, "name", "b"));
                trained.eval();
                NDArray x = images(scratch);
                assertThat(outputs(loaded, x)).containsExactly(outputs(trained, x));
            }
            // forgetting the layers: no constructor fits, and the message says what was tried
            assertThatThrownBy(() -> LightningModule.loadFromCheckpoint(RecordAndLayers.class, file))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(file.toAbsolutePath().toString())
                    .hasMessageContaining("no constructor of " + RecordAndLayers.class.getName())
                    .hasMessageContaining("Tried, in order: (Settings (the hyperparameters record)),"
                            + " (Map<String, Object> (the hyperparameters)), ()")
                    .hasMessageContaining("It declares: RecordAndLayers(Settings, Block, Block)");
        }
    }

    @Test
    void errorsNameTheProblemTheClassAndTheFile() {
        try (LitEncoder trained = new LitEncoder(TRAINED)) {
            Path file = trainAndSave(trained, "errors");
            assertThatThrownBy(() -> LightningModule.loadFromCheckpoint(LitEncoder.class, file, Map.of("in_dim", 128)))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(file.toAbsolutePath().toString())
                    .hasMessageContaining("cannot override [in_dim]")
                    .hasMessageContaining("the known hyperparameters are [inDim, hidden, lr, outputScale, act]");
            assertThatThrownBy(() -> LightningModule.loadFromCheckpoint(LitEncoder.class, file, Map.of("act", "GELU")))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("'act' is \"GELU\", not a constant of Act [RELU, TANH]");
            assertThatThrownBy(() -> LightningModule.loadFromCheckpoint(SeedAutoEncoder.class, file))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(file.toAbsolutePath().toString())
                    .hasMessageContaining("saved by a " + LitEncoder.class.getName())
                    .hasMessageContaining("neither " + SeedAutoEncoder.class.getName());
            // a stored class with no constructor for these arguments
            assertThatThrownBy(() -> LightningModule.loadFromCheckpoint(
                            LitEncoder.class, file, Map.of(), encoder(), decoder()))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("no constructor of " + LitEncoder.class.getName())
                    .hasMessageContaining("(HParams (the hyperparameters record), SequentialBlock, SequentialBlock)")
                    .hasMessageContaining("It declares: LitEncoder(HParams)");
        }
        Path missing = root.resolve("nowhere.ckpt");
        assertThatThrownBy(() -> LightningModule.loadFromCheckpoint(LitEncoder.class, missing))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining(missing.toAbsolutePath().toString())
                .hasMessageContaining("no such file");
    }

    @Test
    void noFittingConstructorForTheSeedModuleWithoutItsLayers() {
        try (SeedAutoEncoder trained = new SeedAutoEncoder(encoder(), decoder())) {
            Path file = trainAndSave(trained, "seed_no_layers");
            assertThatThrownBy(() -> LightningModule.loadFromCheckpoint(SeedAutoEncoder.class, file))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(file.toAbsolutePath().toString())
                    .hasMessageContaining("no constructor of " + SeedAutoEncoder.class.getName())
                    .hasMessageContaining("Tried, in order: (Map<String, Object> (the hyperparameters)), ()")
                    .hasMessageContaining("It declares: SeedAutoEncoder(Block, Block)")
                    .hasMessageContaining("pass the objects the constructor needs");
        }
    }

    // ------------------------------------------------------------------ hyperparameter conversion

    /** Every kind of component a stored value is converted to. */
    record Wide(int i, long l, short s, byte b, double d, float f, boolean flag, char c, String name, Act act,
            List<Integer> ints, double[] ds, Set<String> tags, Map<String, Double> weights, Inner inner,
            Integer boxed, Object any, List<Inner> inners) {}

    /** A nested record, stored as a JSON object. */
    record Inner(int a, String b) {}

    /** A boring module whose hyperparameters are a {@link Wide}. */
    static final class WideModule extends LightningModule {
        final Wide hp;

        WideModule(Wide hp) {
            this.hp = hp;
            saveHyperparameters(hp);
            addChildBlock("layer", Linear.builder().setUnits(2).build());
        }

        @Override
        public NDArray trainingStep(Batch batch, int batchIdx) {
            return forward("layer", batch.getData().head().reshape(-1, 784)).square().mean();
        }

        @Override
        public OptimizerConfig configureOptimizers() {
            return OptimizerConfig.of(new Adam(parameters(), 1e-3));
        }
    }

    @Test
    void everyKindOfRecordComponentSurvivesTheCheckpoint() {
        Wide wide = new Wide(-3, 1L << 40, (short) 300, (byte) -7, 0.1, 0.25f, true, 'x', "wide", Act.RELU,
                List.of(1, 2, 3), new double[] {0.5, 1.5}, Set.of("t"), Map.of("w", 2.5), new Inner(4, "in"),
                null, "anything", List.of(new Inner(1, "one"), new Inner(2, "two")));
        try (WideModule trained = new WideModule(wide)) {
            Path file = trainAndSave(trained, "wide");
            try (WideModule loaded = LightningModule.loadFromCheckpoint(WideModule.class, file)) {
                assertThat(loaded.hp).usingRecursiveComparison().isEqualTo(wide);
                assertThat(loaded.hp.ints().get(0)).isInstanceOf(Integer.class);
                assertThat(loaded.hp.weights().get("w")).isInstanceOf(Double.class);
            }
            try (WideModule loaded = LightningModule.loadFromCheckpoint(
                    WideModule.class, file, Map.of("l", 5, "ds", List.of(1, 2), "inner", Map.of("a", 9L, "b", "z")))) {
                assertThat(loaded.hp.l()).isEqualTo(5L);
                assertThat(loaded.hp.ds()).containsExactly(1.0, 2.0);
                assertThat(loaded.hp.inner()).isEqualTo(new Inner(9, "z"));
            }
        }
    }

    @Test
    void conversionsCheckRangesWholeNumbersAndMissingPrimitives() {
        Map<String, Object> values = new LinkedHashMap<>();
        values.put("a", 1L << 33);
        values.put("b", "x");
        assertThatThrownBy(() -> HyperParameters.toRecord(Inner.class, values, "ckpt"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("ckpt: the hyperparameter 'a' is 8589934592, out of the range of int");
        values.put("a", 1.5);
        assertThatThrownBy(() -> HyperParameters.toRecord(Inner.class, values, "ckpt"))
                .hasMessage("ckpt: the hyperparameter 'a' is 1.5, not a whole number, but its type is int");
        values.put("a", 2.0);
        assertThat(HyperParameters.toRecord(Inner.class, values, "ckpt")).isEqualTo(new Inner(2, "x"));
        values.remove("a");
        assertThatThrownBy(() -> HyperParameters.toRecord(Inner.class, values, "ckpt"))
                .hasMessageContaining("the hyperparameter 'a' of Inner (int) is not stored; pass it as an override");
        values.put("a", 1L);
        values.remove("b");
        assertThat(HyperParameters.toRecord(Inner.class, values, "ckpt")).isEqualTo(new Inner(1, null));
        values.put("b", List.of("not", "a", "string"));
        assertThatThrownBy(() -> HyperParameters.toRecord(Inner.class, values, "ckpt"))
                .hasMessage("ckpt: the hyperparameter 'b' is [not, a, string] (ListN), which cannot be converted to"
                        + " java.lang.String");
    }

    @Test
    void aRecordWithAnIgnoredPrimitiveNeedsItAsAnOverride() {
        try (IgnoringModule trained = new IgnoringModule(new HParams(784, 8, 1e-2, 1.0f, Act.RELU))) {
            assertThat(trained.hparams()).doesNotContainKey("lr");
            Path file = trainAndSave(trained, "ignored");
            assertThatThrownBy(() -> LightningModule.loadFromCheckpoint(IgnoringModule.class, file))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("the hyperparameter 'lr' of HParams (double) is not stored; pass it as an"
                            + " override");
            try (IgnoringModule loaded = LightningModule.loadFromCheckpoint(
                    IgnoringModule.class, file, Map.of("lr", 0.125))) {
                assertThat(loaded.hp.lr()).isEqualTo(0.125);
                assertThat(TestTrainers.sameWeights(TestTrainers.weights(loaded), TestTrainers.weights(trained)))
                        .isTrue();
            }
        }
    }

    /** Saves its record without {@code lr}. */
    static final class IgnoringModule extends LightningModule {
        final HParams hp;

        IgnoringModule(HParams hp) {
            this.hp = hp;
            saveHyperparameters(hp, "lr");
            addChildBlock("layer", Linear.builder().setUnits(hp.hidden()).build());
        }

        @Override
        public NDArray trainingStep(Batch batch, int batchIdx) {
            return forward("layer", batch.getData().head().reshape(-1, hp.inDim())).square().mean();
        }

        @Override
        public OptimizerConfig configureOptimizers() {
            return OptimizerConfig.of(new Adam(parameters(), 1e-2));
        }
    }
}
