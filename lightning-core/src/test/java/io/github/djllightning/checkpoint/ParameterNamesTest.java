package io.github.djllightning.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.testing.EngineTest;
import org.junit.jupiter.api.Test;

/** State-dict names follow PyTorch's: named children keep their names, sequential children get their index. */
class ParameterNamesTest extends EngineTest {

    static final class TwoPart extends LightningModule {
        final Block encoder = addChildBlock("encoder", new SequentialBlock()
                .add(Linear.builder().setUnits(4).build())
                .add(Activation::relu)
                .add(Linear.builder().setUnits(2).build()));
        final Block head = addChildBlock("2d", Linear.builder().setUnits(1).build());

        @Override
        public NDList forward(NDList inputs) {
            return forward(head, forward(encoder, inputs));
        }
    }

    @Test
    void namesAreThoseOfTheSameModelBuiltInPyTorch() {
        try (TwoPart module = new TwoPart()) {
            module.initialize(manager, DataType.FLOAT32, new Shape(1, 3));
            assertThat(ParameterNames.of(module).keySet()).containsExactly(
                    "encoder.0.weight", "encoder.0.bias", "encoder.2.weight", "encoder.2.bias", "2d.weight",
                    "2d.bias");
            assertThat(module.child("2d")).isSameAs(module.head);
            assertThat(ParameterNames.of(module).get("encoder.2.weight").getArray().getShape())
                    .isEqualTo(new Shape(2, 4));
        }
    }

    @Test
    void onlyTheTwoDigitPositionIsStripped() {
        assertThat(ParameterNames.childName("01encoder", 0)).isEqualTo("encoder");
        assertThat(ParameterNames.childName("122d", 11)).isEqualTo("2d");
        assertThat(ParameterNames.childName("101layer", 100)).isEqualTo("layer");
    }

    @Test
    void normalizationAndEmbeddingParametersTakePyTorchNames() {
        ai.djl.nn.SequentialBlock block = new ai.djl.nn.SequentialBlock()
                .add(ai.djl.nn.core.Linear.builder().setUnits(4).build())
                .add(ai.djl.nn.norm.BatchNorm.builder().build())
                .add(ai.djl.nn.norm.LayerNorm.builder().build());
        assertThat(ParameterNames.of(block).keySet()).containsExactly("0.weight", "0.bias", "1.weight", "1.bias",
                "1.running_mean", "1.running_var", "2.weight", "2.bias");
        ai.djl.nn.Block embedding = new ai.djl.modality.nlp.embedding.TrainableWordEmbedding(
                new ai.djl.modality.nlp.DefaultVocabulary(java.util.List.of("a", "b")), 3);
        assertThat(ParameterNames.of(embedding).keySet()).containsExactly("weight");
    }
}
