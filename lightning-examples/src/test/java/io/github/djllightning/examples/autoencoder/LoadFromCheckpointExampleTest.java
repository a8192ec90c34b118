package io.github.djllightning.examples.autoencoder;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.github.djllightning.checkpoint.Checkpoint;
import io.github.djllightning.checkpoint.CheckpointReader;
import io.github.djllightning.checkpoint.ParameterNames;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The seed's "use the model" step: the trained autoencoder comes back from its checkpoint and embeds 4 images. */
class LoadFromCheckpointExampleTest {

    @TempDir
    Path root;

    @Test
    void theTrainedAutoencoderIsLoadedWithItsLayersAndEmbedsFourFakeImages() throws Exception {
        Path checkpoint = LoadFromCheckpointExample.train(root, 5);
        assertThat(checkpoint.getFileName().toString()).isEqualTo("epoch=0-step=5.ckpt");
        assertThat(LoadFromCheckpointExample.newestCheckpoint(root)).isEqualTo(checkpoint);

        try (NDManager manager = NDManager.newBaseManager();
                LitAutoEncoder autoencoder = LitAutoEncoder.loadFromCheckpoint(LitAutoEncoder.class, checkpoint,
                        Map.of(), LitAutoEncoder.encoder(), LitAutoEncoder.decoder())) {
            assertThat(autoencoder.isTraining()).isFalse();
            Checkpoint stored = CheckpointReader.read(checkpoint, manager);
            Map<String, NDArray> weights = stored.tensors("state_dict");
            ParameterNames.of(autoencoder).forEach((name, parameter) ->
                    assertThat(parameter.getArray().toFloatArray()).as(name)
                            .containsExactly(weights.get(name).toFloatArray()));

            NDArray embeddings = LoadFromCheckpointExample.embedFakeImages(autoencoder, manager);
            assertThat(embeddings.getShape()).isEqualTo(new Shape(4, 3));
            NDArray images = manager.randomUniform(0, 1, new Shape(4, 28 * 28));
            assertThat(autoencoder.forward("encoder", images).toFloatArray())
                    .containsExactly(autoencoder.forward(new NDList(images)).head().toFloatArray());
        }

        PrintStream previous = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            LoadFromCheckpointExample.main(new String[] {"--root", root.toString()});
        } finally {
            System.setOut(previous);
        }
        String printed = out.toString(StandardCharsets.UTF_8);
        assertThat(printed).contains("Loaded " + checkpoint.toAbsolutePath().normalize())
                .contains("Predictions (4 image embeddings):")
                .contains("RESULT embeddings_shape=(4, 3)")
                .doesNotContain("training the autoencoder first");
    }
}
