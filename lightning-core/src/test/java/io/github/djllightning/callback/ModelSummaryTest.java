package io.github.djllightning.callback;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import io.github.djllightning.module.LightningModule;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ModelSummaryTest {

    private NDManager manager;

    /** The seed's autoencoder: 784 -> 64 -> 3 -> 64 -> 784. */
    static final class LitAutoEncoder extends LightningModule {
        LitAutoEncoder() {
            addChildBlock("encoder", new SequentialBlock()
                    .add(Linear.builder().setUnits(64).build())
                    .add(Activation::relu)
                    .add(Linear.builder().setUnits(3).build()));
            addChildBlock("decoder", new SequentialBlock()
                    .add(Linear.builder().setUnits(64).build())
                    .add(Activation::relu)
                    .add(Linear.builder().setUnits(28 * 28).build()));
        }

        @Override
        public NDList forward(NDList inputs) {
            return forward("decoder", forward("encoder", inputs));
        }
    }

    /** A module whose parameter shapes are known before any array exists. */
    static final class ShapedModule extends LightningModule {
        ShapedModule() {
            Linear head = addChildBlock("head", Linear.builder().setUnits(5).build());
            head.prepare(new Shape[] {new Shape(1, 10)});
            addParameter(Parameter.builder()
                    .setName("scale")
                    .setType(Parameter.Type.OTHER)
                    .optShape(new Shape(3))
                    .build());
        }
    }

    @BeforeEach
    void openManager() {
        manager = NDManager.newBaseManager();
    }

    @AfterEach
    void closeManager() {
        manager.close();
    }

    private LitAutoEncoder initializedAutoEncoder() {
        LitAutoEncoder module = new LitAutoEncoder();
        module.initialize(manager, DataType.FLOAT32, new Shape(1, 784));
        return module;
    }

    private static PrintStream capture(ByteArrayOutputStream bytes) {
        return new PrintStream(bytes, true, StandardCharsets.UTF_8);
    }

    @Test
    void summarizesTheDirectLayersOfTheAutoencoder() {
        ModelSummary.Summary summary = ModelSummary.summarize(initializedAutoEncoder(), 1);

        assertThat(summary.rows()).containsExactly(
                new ModelSummary.Row("encoder", "SequentialBlock", 50_435, 50_435, "train"),
                new ModelSummary.Row("decoder", "SequentialBlock", 51_216, 51_216, "train"));
        assertThat(summary.trainableParams()).isEqualTo(101_651);
        assertThat(summary.nonTrainableParams()).isZero();
        assertThat(summary.totalParams()).isEqualTo(101_651);
        assertThat(summary.sizeMb()).isCloseTo(0.406604, org.assertj.core.data.Offset.offset(1e-9));
        assertThat(summary.isComplete()).isTrue();
        assertThat(summary.trainModeModules()).isEqualTo(9);
        assertThat(summary.evalModeModules()).isZero();
        assertThat(summary.toString()).isEqualTo(String.join("\n",
                "  | Name    | Type            | Params | Mode",
                "----------------------------------------------------",
                "0 | encoder | SequentialBlock | 50.4 K | train",
                "1 | decoder | SequentialBlock | 51.2 K | train",
                "----------------------------------------------------",
                "101 K     Trainable params",
                "0         Non-trainable params",
                "101 K     Total params",
                "0.407     Total estimated model params size (MB)",
                "9         Modules in train mode",
                "0         Modules in eval mode"));
    }

    @Test
    void allLevelsUseSequentialIndices() {
        ModelSummary.Summary summary = ModelSummary.summarize(initializedAutoEncoder(), -1);
        assertThat(summary.rows()).extracting(ModelSummary.Row::name).containsExactly(
                "encoder", "encoder.0", "encoder.1", "encoder.2", "decoder", "decoder.0", "decoder.1", "decoder.2");
        assertThat(summary.rows()).extracting(ModelSummary.Row::type).containsExactly(
                "SequentialBlock", "Linear", "LambdaBlock", "Linear",
                "SequentialBlock", "Linear", "LambdaBlock", "Linear");
        assertThat(summary.rows()).extracting(ModelSummary.Row::params).containsExactly(
                50_435L, 50_240L, 0L, 195L, 51_216L, 256L, 0L, 50_960L);
        assertThat(summary.toString()).contains(
                "2 | encoder.1 | LambdaBlock     | 0      | train",
                "3 | encoder.2 | Linear          | 195    | train",
                "7 | decoder.2 | Linear          | 51.0 K | train");
        assertThat(ModelSummary.summarize(initializedAutoEncoder(), 0).rows()).isEmpty();
    }

    @Test
    void frozenLayersAreNotTrainable() {
        LitAutoEncoder module = initializedAutoEncoder();
        module.child("encoder").freezeParameters(true);
        ModelSummary.Summary summary = ModelSummary.summarize(module, 1);
        assertThat(summary.rows().get(0).trainableParams()).isZero();
        assertThat(summary.rows().get(0).nonTrainableParams()).isEqualTo(50_435);
        assertThat(summary.trainableParams()).isEqualTo(51_216);
        assertThat(summary.nonTrainableParams()).isEqualTo(50_435);
        assertThat(summary.toString()).contains(
                "51.2 K    Trainable params", "50.4 K    Non-trainable params", "101 K     Total params");
    }

    @Test
    void evalModeIsShown() {
        LitAutoEncoder module = initializedAutoEncoder();
        module.eval();
        ModelSummary.Summary summary = ModelSummary.summarize(module, 1);
        assertThat(summary.rows()).extracting(ModelSummary.Row::mode).containsOnly("eval");
        assertThat(summary.toString()).contains("0         Modules in train mode", "9         Modules in eval mode");
    }

    @Test
    void countsFromShapesBeforeArraysExist() {
        ShapedModule module = new ShapedModule();
        assertThat(module.parameters()).noneMatch(Parameter::isInitialized);
        ModelSummary.Summary summary = ModelSummary.summarize(module, 1);
        assertThat(summary.isComplete()).isTrue();
        assertThat(summary.rows()).containsExactly(new ModelSummary.Row("head", "Linear", 55, 55, "train"));
        assertThat(summary.totalParams()).isEqualTo(58);

        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        new ModelSummary(1, capture(bytes)).onFitStart(null, module);
        assertThat(bytes.toString(StandardCharsets.UTF_8)).contains("0 | head | Linear | 55     | train");
    }

    @Test
    void waitsForParametersThatDoNotExistYet() {
        LitAutoEncoder module = new LitAutoEncoder();
        ModelSummary.Summary early = ModelSummary.summarize(module, 1);
        assertThat(early.isComplete()).isFalse();
        assertThat(early.unknownParameters()).isEqualTo(8);
        assertThat(early.totalParams()).isZero();

        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ModelSummary callback = new ModelSummary(1, capture(bytes));
        callback.onFitStart(null, module);
        callback.onTrainStart(null, module);
        assertThat(bytes.size()).isZero();

        module.initialize(manager, DataType.FLOAT32, new Shape(1, 784));
        callback.onTrainBatchEnd(null, module, Map.of(), null, 0);
        String printed = bytes.toString(StandardCharsets.UTF_8);
        assertThat(printed).contains("0 | encoder | SequentialBlock | 50.4 K | train", "101 K     Total params");
        assertThat(printed).doesNotContain("not created yet");

        callback.onTrainBatchEnd(null, module, Map.of(), null, 1);
        assertThat(bytes.toString(StandardCharsets.UTF_8)).isEqualTo(printed);
    }

    @Test
    void aSanityCheckThatCreatesTheParametersLetsItPrintWhenTrainingStarts() {
        LitAutoEncoder module = new LitAutoEncoder();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ModelSummary callback = new ModelSummary(1, capture(bytes));
        callback.onFitStart(null, module);
        module.initialize(manager, DataType.FLOAT32, new Shape(1, 784));
        callback.onTrainStart(null, module);
        String printed = bytes.toString(StandardCharsets.UTF_8);
        assertThat(printed).contains("101 K     Total params");
        callback.onTrainBatchEnd(null, module, Map.of(), null, 0);
        assertThat(bytes.toString(StandardCharsets.UTF_8)).isEqualTo(printed);
    }

    @Test
    void layersNeverRunAreReportedWhenPrintedAnyway() {
        LitAutoEncoder module = new LitAutoEncoder();
        Block encoder = module.child("encoder");
        encoder.initialize(manager, DataType.FLOAT32, new Shape(1, 784));
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ModelSummary callback = new ModelSummary(1, capture(bytes));
        callback.onFitStart(null, module);
        callback.onTrainBatchEnd(null, module, Map.of(), null, 0);
        assertThat(bytes.toString(StandardCharsets.UTF_8))
                .contains("0 | encoder | SequentialBlock | 50.4 K | train", "1 | decoder | SequentialBlock | 0 ")
                .contains("(4 parameter(s) not created yet are not counted)");
    }

    @Test
    void depthZeroPrintsNothing() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ModelSummary callback = new ModelSummary(0, capture(bytes));
        LitAutoEncoder module = initializedAutoEncoder();
        callback.onFitStart(null, module);
        callback.onTrainBatchEnd(null, module, Map.of(), null, 0);
        assertThat(bytes.size()).isZero();
        assertThat(callback.maxDepth()).isZero();
        assertThat(new ModelSummary().maxDepth()).isEqualTo(1);
        assertThat(callback.stateKey()).isEqualTo("ModelSummary");
    }

    @Test
    void badDepthIsRejected() {
        assertThatThrownBy(() -> new ModelSummary(-2))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("-2");
        assertThatThrownBy(() -> ModelSummary.summarize(new LitAutoEncoder(), -5))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void countsAreAbbreviatedLikeLightning() {
        assertThat(List.of(0L, 950L, 1_234L, 1_250L, 50_435L, 101_651L, 999_999L, 2_000_000L, 1_200_000L,
                        3_400_000_000L, 400_000_000_000_000L, 5_000_000_000_000_000L)
                .stream().map(ModelSummary::humanCount))
                .containsExactly("0", "950", "1.2 K", "1.2 K", "50.4 K", "101 K", "999 K", "2.0 M", "1.2 M",
                        "3.4 B", "400 T", "5,000 T");
        assertThat(ModelSummary.megabytes(0.406604)).isEqualTo("0.407");
        assertThat(ModelSummary.megabytes(1234.5678)).isEqualTo("1,234.568");
    }
}
