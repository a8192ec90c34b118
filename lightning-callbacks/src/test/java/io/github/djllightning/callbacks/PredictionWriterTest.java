package io.github.djllightning.callbacks;

import static io.github.djllightning.testing.TestTrainers.quiet;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.offset;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.dataset.Batch;
import ai.djl.training.dataset.Dataset.Usage;
import com.google.gson.Gson;
import com.google.gson.reflect.TypeToken;
import io.github.djllightning.checkpoint.SafetensorsReader;
import io.github.djllightning.data.DataLoader;
import io.github.djllightning.data.MnistDataset;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.optim.Adam;
import io.github.djllightning.optim.OptimizerConfig;
import io.github.djllightning.testing.EngineTest;
import io.github.djllightning.trainer.MisconfigurationException;
import io.github.djllightning.trainer.Trainer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Prediction writers on real MNIST images: an encoder trained for a few batches embeds shuffled test images, and the
 * files hold, for every batch, the embeddings of exactly the samples its batch indices name.
 */
class PredictionWriterTest extends EngineTest {

    private static MnistDataset train;
    private static MnistDataset test;

    @TempDir
    Path root;

    @BeforeAll
    static void data() throws IOException {
        train = MnistDataset.builder().usage(Usage.TRAIN).limit(96).build();
        test = MnistDataset.builder().usage(Usage.TEST).limit(100).build();
    }

    @AfterAll
    static void close() {
        train.close();
        test.close();
    }

    /** The seed's autoencoder, small: predictions are the 3-number embeddings of the images. */
    static class TinyAutoEncoder extends LightningModule {
        private final Block encoder = addChildBlock("encoder", new SequentialBlock()
                .add(Linear.builder().setUnits(16).build())
                .add(Activation::relu)
                .add(Linear.builder().setUnits(3).build()));
        private final Block decoder = addChildBlock("decoder", Linear.builder().setUnits(784).build());

        NDArray embed(NDArray images) {
            return forward(encoder, images.reshape(-1, 784));
        }

        @Override
        public NDArray trainingStep(Batch batch, int batchIdx) {
            NDArray x = batch.getData().head().reshape(-1, 784);
            return forward(decoder, embed(x)).sub(x).square().mean();
        }

        @Override
        public Object predictStep(Batch batch, int batchIdx, int dataloaderIdx) {
            return embed(batch.getData().head());
        }

        @Override
        public OptimizerConfig configureOptimizers() {
            return OptimizerConfig.of(new Adam(parameters(), 1e-2));
        }
    }

    private TinyAutoEncoder trained() {
        TinyAutoEncoder module = new TinyAutoEncoder();
        quiet(root).maxEpochs(1).build().fit(module, DataLoader.of(train).batchSize(32).build());
        return module;
    }

    private static DataLoader shuffled() {
        return DataLoader.of(test).batchSize(32).shuffle(true).seed(3).build();
    }

    /** The module's embedding of the test images with these dataset indices, computed directly. */
    private static float[] expected(TinyAutoEncoder module, List<Long> indices) {
        try (NDManager scratch = manager.newSubManager()) {
            NDArray rows = scratch.create(indices.stream().mapToLong(Long::longValue).toArray());
            NDArray images = test.images().get(scratch, new NDIndex("{}", rows));
            return module.embed(images).toFloatArray();
        }
    }

    /** The loader's batches of dataset indices: slices of its epoch-0 order. */
    private static List<List<Long>> batchesOf(DataLoader loader) {
        long[] order = loader.sampleOrder(0);
        List<List<Long>> batches = new ArrayList<>();
        for (int from = 0; from < order.length; from += loader.batchSize()) {
            batches.add(LongStream.of(order).skip(from).limit(loader.batchSize()).boxed().collect(Collectors.toList()));
        }
        return batches;
    }

    @Test
    void anEpochWriterSavesEveryPredictionAndTheSamplesEachBatchHolds() throws IOException {
        FilePredictionWriter writer = new FilePredictionWriter(root.resolve("pred_path"), "epoch");
        DataLoader sequential = DataLoader.of(test.subDataset(0, 40)).batchSize(16).build();
        try (TinyAutoEncoder module = trained()) {
            Trainer trainer = quiet(root).callbacks(writer).build();
            List<List<Object>> returned = trainer.predict(module, List.of(shuffled(), sequential), false);
            assertThat(returned).hasSize(2).allMatch(List::isEmpty);

            List<List<List<Long>>> indices = new Gson().fromJson(
                    Files.readString(writer.batchIndicesFile()), new TypeToken<List<List<List<Long>>>>() {}.getType());
            assertThat(indices.get(0)).isEqualTo(batchesOf(shuffled()));
            assertThat(indices.get(0).get(0)).isNotEqualTo(LongStream.range(0, 32).boxed().toList());
            assertThat(indices.get(1)).isEqualTo(batchesOf(sequential));

            try (NDManager scratch = manager.newSubManager()) {
                Map<String, NDArray> predictions = SafetensorsReader.read(writer.predictionsFile()).createAll(scratch);
                assertThat(predictions).containsOnlyKeys("0/0", "0/1", "0/2", "0/3", "1/0", "1/1", "1/2");
                for (int d = 0; d < 2; d++) {
                    for (int b = 0; b < indices.get(d).size(); b++) {
                        List<Long> samples = indices.get(d).get(b);
                        NDArray prediction = predictions.get(d + "/" + b);
                        assertThat(prediction.getShape().getShape()).containsExactly(samples.size(), 3);
                        assertThat(prediction.toFloatArray()).as(d + "/" + b)
                                .containsExactly(expected(module, samples), offset(1e-5f));
                    }
                }
            }
        }
        try (Stream<Path> files = Files.list(writer.outputDir())) {
            assertThat(files.map(p -> p.getFileName().toString()))
                    .containsExactlyInAnyOrder("predictions_0.safetensors", "batch_indices_0.json");
        }
    }

    @Test
    void aBatchWriterSavesOneFilePerBatchWithItsSampleIndicesInTheMetadata() throws IOException {
        FilePredictionWriter writer = new FilePredictionWriter(root.resolve("batches"));
        assertThat(writer.writeInterval()).isEqualTo(BasePredictionWriter.WriteInterval.BATCH);
        List<Long> seen = new ArrayList<>();
        try (TinyAutoEncoder module = trained()) {
            quiet(root).callbacks(writer).build().predict(module, List.of(shuffled()), false);
            try (NDManager scratch = manager.newSubManager()) {
                for (int b = 0; b < 4; b++) {
                    SafetensorsReader.Contents file = SafetensorsReader.read(writer.batchFile(0, b));
                    List<Long> samples = new Gson().fromJson(file.metadata().get("batch_indices"),
                            new TypeToken<List<Long>>() {}.getType());
                    assertThat(samples).isEqualTo(batchesOf(shuffled()).get(b));
                    assertThat(file.tensors()).containsOnlyKeys("0/" + b);
                    assertThat(file.create("0/" + b, scratch).toFloatArray())
                            .containsExactly(expected(module, samples), offset(1e-5f));
                    seen.addAll(samples);
                }
            }
        }
        assertThat(seen).containsExactlyInAnyOrderElementsOf(LongStream.range(0, 100).boxed().toList());
        try (Stream<Path> files = Files.list(writer.outputDir())) {
            assertThat(files).hasSize(4);
        }
    }

    @Test
    void writingBothWaysLeavesTheReturnedPredictionsIntactAndNamesEveryArrayOfAStructuredPrediction()
            throws IOException {
        FilePredictionWriter writer = new FilePredictionWriter(root.resolve("both"), "batch_and_epoch");
        TinyAutoEncoder module = new TinyAutoEncoder() {
            @Override
            public Object predictStep(Batch batch, int batchIdx, int dataloaderIdx) {
                NDArray embedding = embed(batch.getData().head());
                Map<String, Object> prediction = new LinkedHashMap<>();
                prediction.put("embedding", embedding);
                prediction.put("top", new NDList(embedding.argMax(1)));
                return prediction;
            }
        };
        try (module) {
            quiet(root).maxEpochs(1).build().fit(module, DataLoader.of(train).batchSize(32).build());
            List<List<Object>> returned = quiet(root).callbacks(writer).build()
                    .predict(module, List.of(DataLoader.of(test).batchSize(50).build()), true);
            assertThat(returned.get(0)).hasSize(2);
            try (NDManager scratch = manager.newSubManager()) {
                Map<String, NDArray> all = SafetensorsReader.read(writer.predictionsFile()).createAll(scratch);
                assertThat(all).containsOnlyKeys("0/0/embedding", "0/0/top/0", "0/1/embedding", "0/1/top/0");
                for (int b = 0; b < 2; b++) {
                    Map<?, ?> kept = (Map<?, ?>) returned.get(0).get(b);
                    NDArray embedding = (NDArray) kept.get("embedding");
                    // the writer's copies are freed; the returned arrays are not
                    assertThat(embedding.isReleased()).isFalse();
                    assertThat(all.get("0/" + b + "/embedding").toFloatArray())
                            .containsExactly(embedding.toFloatArray());
                    assertThat(all.get("0/" + b + "/top/0").toLongArray())
                            .containsExactly(((NDList) kept.get("top")).head().toLongArray());
                    Map<String, NDArray> batchFile = SafetensorsReader.read(writer.batchFile(0, b)).createAll(scratch);
                    assertThat(batchFile.get("0/" + b + "/embedding").toFloatArray())
                            .containsExactly(embedding.toFloatArray());
                }
            }
        }
    }

    @Test
    void aCustomEpochWriterGetsCopiesOnTheCpuPerLoaderThatAreFreedAfterwards() {
        List<NDArray> received = new ArrayList<>();
        List<List<List<Long>>> receivedIndices = new ArrayList<>();
        List<Double> sumsDuringTheCall = new ArrayList<>();
        BasePredictionWriter writer = new BasePredictionWriter("epoch") {
            @Override
            protected void writeOnEpochEnd(Trainer trainer, LightningModule module, List<List<Object>> predictions,
                    List<List<List<Long>>> batchIndices) {
                for (List<Object> perLoader : predictions) {
                    for (Object prediction : perLoader) {
                        NDArray array = (NDArray) prediction;
                        assertThat(array.getDevice()).isEqualTo(Device.cpu());
                        received.add(array);
                        sumsDuringTheCall.add((double) array.sum().getFloat());
                    }
                }
                receivedIndices.addAll(batchIndices);
            }
        };
        try (TinyAutoEncoder module = trained()) {
            List<List<Object>> kept = quiet(root).callbacks(writer).build()
                    .predict(module, List.of(shuffled(), DataLoader.of(test).batchSize(60).build()), true);
            assertThat(receivedIndices).hasSize(2);
            assertThat(receivedIndices.get(0)).isEqualTo(batchesOf(shuffled()));
            assertThat(receivedIndices.get(1)).hasSize(2);
            assertThat(received).hasSize(6).allMatch(NDArray::isReleased);
            List<Double> keptSums = new ArrayList<>();
            for (List<Object> perLoader : kept) {
                for (Object prediction : perLoader) {
                    keptSums.add((double) ((NDArray) prediction).sum().getFloat());
                }
            }
            assertThat(sumsDuringTheCall).isEqualTo(keptSums);
        }
    }

    @Test
    void badSettingsAndPredictionsAreRejectedNamingTheValueAndTheFix() {
        assertThatThrownBy(() -> new FilePredictionWriter(root, "step"))
                .isInstanceOf(MisconfigurationException.class)
                .hasMessage("writeInterval must be one of 'batch', 'epoch', 'batch_and_epoch', got 'step'");
        assertThatThrownBy(() -> new FilePredictionWriter(null, "epoch"))
                .isInstanceOf(MisconfigurationException.class)
                .hasMessageContaining("got null");
        assertThatThrownBy(() -> new BasePredictionWriter("batch_and_epoch") {
            @Override
            protected void writeOnBatchEnd(Trainer trainer, LightningModule module, Object prediction,
                    List<Long> batchIndices, Batch batch, int batchIdx, int dataloaderIdx) {}
        })
                .isInstanceOf(MisconfigurationException.class)
                .hasMessageContaining("writeInterval 'batch_and_epoch' but does not override writeOnEpochEnd");

        TinyAutoEncoder labels = new TinyAutoEncoder() {
            @Override
            public Object predictStep(Batch batch, int batchIdx, int dataloaderIdx) {
                return Map.of("label", "seven");
            }
        };
        try (labels) {
            Trainer trainer = quiet(root).callbacks(new FilePredictionWriter(root.resolve("x"))).build();
            assertThatThrownBy(() -> trainer.predict(labels, List.of(shuffled()), false))
                    .isInstanceOf(MisconfigurationException.class)
                    .hasMessageContaining("the prediction '0/0/label' holds a java.lang.String (seven)")
                    .hasMessageContaining("extend BasePredictionWriter");
        }
        assertThat(Files.exists(root.resolve("x"))).isFalse();
    }
}
