package io.github.djllightning.examples.guide;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.dataset.Dataset.Usage;
import io.github.djllightning.callbacks.FilePredictionWriter;
import io.github.djllightning.checkpoint.SafetensorsReader;
import io.github.djllightning.data.DataLoader;
import io.github.djllightning.data.MnistDataset;
import io.github.djllightning.examples.classifier.LitClassifier;
import io.github.djllightning.examples.guide.InferenceGuide.Digits;
import io.github.djllightning.examples.guide.InferenceGuide.LitDigitClassifier;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.testing.PythonEnv;
import io.github.djllightning.trainer.Trainer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The samples of {@code docs/inference.md}, on a classifier trained for one epoch on 2,048 MNIST images. */
class InferenceGuideTest {

    @TempDir
    static Path trained;

    @TempDir
    Path out;

    static Path checkpoint;

    @BeforeAll
    static void trainAClassifier() throws Exception {
        Engine.getInstance().setRandomSeed(41);
        try (MnistDataset images = MnistDataset.builder().usage(Usage.TRAIN).limit(2048).build();
                LitDigitClassifier classifier = new LitDigitClassifier(LitClassifier.HParams.defaults())) {
            Trainer trainer = Trainer.builder().maxEpochs(1).defaultRootDir(trained).logger(false)
                    .enableProgressBar(false).enableModelSummary(false).enableCheckpointing(false).build();
            trainer.fit(classifier, DataLoader.of(images).batchSize(32).shuffle(true).build());
            checkpoint = trained.resolve("best_model.ckpt");
            trainer.saveCheckpoint(checkpoint);
        }
    }

    @Test
    void theLoadedModelPredictsWithoutRecordingGradientsOnAnyThread() throws Exception {
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray yHat = InferenceGuide.loadAndPredict(checkpoint, manager);
            assertThat(yHat.getShape()).isEqualTo(new Shape(1, 10));
            assertThat(yHat.hasGradient()).isFalse();
        }
        // a new thread starts with the engine's gradient mode on; the frozen model records nothing there either
        AtomicReference<Object> seen = new AtomicReference<>();
        Thread worker = new Thread(() -> {
            try (NDManager manager = NDManager.newBaseManager()) {
                boolean gradMode = JniUtils.isGradMode();
                NDArray frozen = InferenceGuide.loadAndPredict(checkpoint, manager);
                seen.set(List.of(gradMode, frozen.hasGradient(), frozen.getShape()));
            } catch (RuntimeException e) {
                seen.set(e);
            }
        });
        worker.start();
        worker.join();
        assertThat(seen.get()).isEqualTo(List.of(true, false, new Shape(1, 10)));
    }

    @Test
    void predictReturnsTheDigitsAndProbabilitiesOfEveryBatch() throws Exception {
        try (MnistDataset test = MnistDataset.builder().usage(Usage.TEST).limit(600).build();
                LitDigitClassifier model =
                        LightningModule.loadFromCheckpoint(LitDigitClassifier.class, checkpoint)) {
            List<Object> predictions = InferenceGuide.predict(model, test);
            assertThat(predictions).hasSize(3);
            NDList first = (NDList) predictions.get(0);
            assertThat(first.get(0).getShape()).isEqualTo(new Shape(256));
            assertThat(first.get(1).getShape()).isEqualTo(new Shape(256));
            for (float p : first.get(1).toFloatArray()) {
                assertThat(p).isBetween(0.1f, 1f);
            }
            assertThat(((NDList) predictions.get(2)).get(0).getShape()).isEqualTo(new Shape(88));
            assertThat(accuracy(first.get(0).toLongArray(), test.labels().toLongArray())).isGreaterThan(0.7);
        }
    }

    @Test
    void monteCarloDropoutAveragesTwentyDrawsIntoProbabilities() throws Exception {
        try (MnistDataset test = MnistDataset.builder().usage(Usage.TEST).limit(256).build();
                LitClassifier trainedModel = LightningModule.loadFromCheckpoint(LitClassifier.class, checkpoint)) {
            Digits mc = InferenceGuide.monteCarloDropout(trainedModel, test);
            assertThat(mc.digits()).hasSize(256);
            for (float p : mc.probabilities()) {
                assertThat(p).isBetween(0.1f, 1f);
            }
            assertThat(accuracy(mc.digits(), test.labels().toLongArray())).isGreaterThan(0.7);
            // the trained model is still usable: closing the MC wrapper freed only its own memory
            try (NDManager manager = NDManager.newBaseManager()) {
                NDArray scores = trainedModel.forward(manager.zeros(new Shape(2, 28 * 28)));
                assertThat(scores.getShape()).isEqualTo(new Shape(2, 10));
            }
        }
    }

    @Test
    void theWritersPutEveryPredictionWithItsImageIndexInFiles() throws Exception {
        try (MnistDataset test = MnistDataset.builder().usage(Usage.TEST).limit(600).build();
                LitDigitClassifier model =
                        LightningModule.loadFromCheckpoint(LitDigitClassifier.class, checkpoint)) {
            FilePredictionWriter writer = InferenceGuide.writePredictions(model, test, out.resolve("predictions"));
            assertThat(writer.predictionsFile()).isEqualTo(out.resolve("predictions/predictions_0.safetensors"));
            SafetensorsReader.Contents contents = SafetensorsReader.read(writer.predictionsFile());
            assertThat(contents.tensors().keySet())
                    .containsExactlyInAnyOrder("0/0/0", "0/0/1", "0/1/0", "0/1/1", "0/2/0", "0/2/1");
            assertThat(contents.tensors().get("0/2/1").shape()).isEqualTo(new Shape(88));
            String indices = Files.readString(writer.batchIndicesFile());
            assertThat(indices).startsWith("[[[0,1,2,").contains(",599]]]");
            List<Object> kept = InferenceGuide.predict(model, test);
            String firstDigits = Arrays.toString(Arrays.copyOf(((NDList) kept.get(0)).get(0).toLongArray(), 8));
            assertThat(pythonOfThePage("print(digits[:8].tolist(), images[:3])"))
                    .contains(firstDigits + " [0, 1, 2]");

            // the CSV writer, on shuffled batches: each line names its image, so the order does not matter
            long[] expected;
            try (NDManager manager = NDManager.newBaseManager()) {
                NDArray scores = model.forward(test.images().reshape(-1, 28 * 28));
                expected = scores.argMax(1).toLongArray();
            }
            Path csv = out.resolve("predictions.csv");
            InferenceGuide.writeCsv(model, test, csv);
            List<String> lines = Files.readAllLines(csv);
            assertThat(lines).hasSize(601);
            assertThat(lines.get(0)).isEqualTo("index,digit,probability");
            Map<Integer, Long> digitOf = new HashMap<>();
            List<Integer> order = new ArrayList<>();
            for (String line : lines.subList(1, lines.size())) {
                String[] fields = line.split(",");
                int index = Integer.parseInt(fields[0]);
                order.add(index);
                digitOf.put(index, Long.parseLong(fields[1]));
                assertThat(Float.parseFloat(fields[2])).isBetween(0.1f, 1f);
            }
            assertThat(digitOf).hasSize(600);
            assertThat(order).isNotEqualTo(order.stream().sorted().toList());
            for (int i = 0; i < 600; i++) {
                assertThat(digitOf.get(i)).as("digit of image %d", i).isEqualTo(expected[i]);
            }
            // a second run replaces the file
            InferenceGuide.writeCsv(model, test, csv);
            assertThat(Files.readAllLines(csv)).hasSize(601);
        }
    }

    /** Runs the page's Python blocks in {@code out}, followed by the given lines, and returns what they print. */
    private String pythonOfThePage(String extraLines) throws Exception {
        Path page = null;
        for (Path folder = Path.of("").toAbsolutePath(); folder != null && page == null; folder = folder.getParent()) {
            if (Files.isRegularFile(folder.resolve("docs/inference.md"))) {
                page = folder.resolve("docs/inference.md");
            }
        }
        assertThat(page).as("docs/inference.md above the working folder").isNotNull();
        List<String> blocks = new ArrayList<>();
        Matcher block = Pattern.compile("(?m)^```python\\n(.*?)^```$", Pattern.DOTALL)
                .matcher(Files.readString(page));
        while (block.find()) {
            blocks.add(block.group(1));
        }
        assertThat(blocks).as("the Python blocks of the page").isNotEmpty();
        Path python = PythonEnv.pythonWith("import numpy, safetensors.numpy", List.of("numpy", "safetensors"),
                "the inference guide's Python block");
        Path script = out.resolve("page.py");
        Files.writeString(script, String.join("\n", blocks) + extraLines + "\n");
        PythonEnv.Result result = PythonEnv.run(List.of(python.toString(), script.toString()), out, null, 120);
        assertThat(result.ok()).as("the page's Python: %s", PythonEnv.tail(result.errors(), 4000)).isTrue();
        return result.output();
    }

    private static double accuracy(long[] predicted, long[] labels) {
        int right = 0;
        for (int i = 0; i < predicted.length; i++) {
            right += predicted[i] == labels[i] ? 1 : 0;
        }
        return right / (double) predicted.length;
    }
}
