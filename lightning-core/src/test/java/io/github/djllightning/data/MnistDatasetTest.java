package io.github.djllightning.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.dataset.ArrayDataset;
import ai.djl.training.dataset.Batch;
import ai.djl.training.dataset.Dataset.Usage;
import ai.djl.training.dataset.RandomAccessDataset;
import ai.djl.training.dataset.Record;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MnistDatasetTest {

    private static MnistDataset train;
    private static MnistDataset test;

    @BeforeAll
    static void load() throws IOException {
        long start = System.nanoTime();
        train = MnistDataset.builder().usage(Usage.TRAIN).build();
        long trainNanos = System.nanoTime() - start;
        test = MnistDataset.builder().usage(Usage.TEST).build();
        System.out.printf("MNIST train loaded in %.0f ms from %s%n", trainNanos / 1e6, train.root());
    }

    @AfterAll
    static void close() {
        train.close();
        test.close();
    }

    @Test
    void trainSplitHas60000ImagesOfOneByTwentyEightByTwentyEightInTheUnitInterval() {
        assertThat(train.size()).isEqualTo(60_000);
        assertThat(train.usage()).isEqualTo(Usage.TRAIN);
        NDArray images = train.images();
        assertThat(images.getShape()).isEqualTo(new Shape(60_000, 1, 28, 28));
        assertThat(images.getDataType()).isEqualTo(DataType.FLOAT32);
        assertThat(images.min().getFloat()).isEqualTo(0f);
        assertThat(images.max().getFloat()).isEqualTo(1f);
        assertThat(train.labels().getShape()).isEqualTo(new Shape(60_000));
        assertThat(train.labels().getDataType()).isEqualTo(DataType.INT64);
        assertThat(train.labels().min().getLong()).isEqualTo(0L);
        assertThat(train.labels().max().getLong()).isEqualTo(9L);
    }

    @Test
    void testSplitHas10000ImagesAndTheWellKnownFirstLabels() {
        assertThat(test.size()).isEqualTo(10_000);
        assertThat(test.images().getShape()).isEqualTo(new Shape(10_000, 1, 28, 28));
        try (NDArray first = test.labels().get("0:8")) {
            assertThat(first.toLongArray()).containsExactly(7, 2, 1, 0, 4, 1, 4, 9);
        }
    }

    @Test
    void pixelsAreTheFileBytesDividedBy255() throws IOException {
        byte[] file = Files.readAllBytes(test.root().resolve("t10k-images-idx3-ubyte"));
        float[] expected = new float[28 * 28];
        for (int i = 0; i < expected.length; i++) {
            expected[i] = (file[16 + 5 * 784 + i] & 0xFF) / 255f;
        }
        try (NDArray image = test.images().get(5)) {
            assertThat(image.toFloatArray()).containsExactly(expected);
        }
    }

    @Test
    void recordsAreSingleImagesWithScalarLabels() {
        try (NDManager manager = NDManager.newBaseManager()) {
            Record record = test.get(manager, 2);
            assertThat(record.getData().head().getShape()).isEqualTo(new Shape(1, 28, 28));
            assertThat(record.getLabels().head().getLong()).isEqualTo(1L);
        }
    }

    @Test
    void limitLoadsOnlyTheFirstSamples() throws IOException {
        try (MnistDataset small = MnistDataset.builder().usage(Usage.TEST).limit(100).build()) {
            assertThat(small.size()).isEqualTo(100);
            assertThat(small.images().getShape()).isEqualTo(new Shape(100, 1, 28, 28));
            try (NDArray first = small.labels().get("0:8");
                    NDArray same = small.images().eq(test.images().get("0:100"))) {
                assertThat(first.toLongArray()).containsExactly(7, 2, 1, 0, 4, 1, 4, 9);
                assertThat(same.all().getBoolean()).isTrue();
            }
        }
        try (MnistDataset all = MnistDataset.builder().usage(Usage.TEST).limit(1_000_000).build()) {
            assertThat(all.size()).isEqualTo(10_000);
        }
    }

    @Test
    void closeFreesTheResidentArrays() throws IOException {
        MnistDataset small = MnistDataset.builder().usage(Usage.TEST).limit(10).build();
        NDArray images = small.images();
        small.close();
        assertThat(images.isReleased()).isTrue();
        assertThat(small.labels().isReleased()).isTrue();
    }

    @Test
    void defaultRootFindsTheRepositoryCopy() {
        Path root = MnistDataset.defaultRoot();
        assertThat(root.resolve("train-images-idx3-ubyte")).exists();
    }

    @Test
    void theSystemPropertyOverridesTheDefaultRoot(@TempDir Path dir) {
        String before = System.getProperty(MnistDataset.DIR_PROPERTY);
        System.setProperty(MnistDataset.DIR_PROPERTY, dir.toString());
        try {
            assertThat(MnistDataset.defaultRoot()).isEqualTo(dir);
            assertThatThrownBy(() -> MnistDataset.builder().build())
                    .isInstanceOf(FileNotFoundException.class)
                    .hasMessageContaining(dir.resolve("train-images-idx3-ubyte").toString());
        } finally {
            if (before == null) {
                System.clearProperty(MnistDataset.DIR_PROPERTY);
            } else {
                System.setProperty(MnistDataset.DIR_PROPERTY, before);
            }
        }
    }

    @Test
    void subDatasetsStayResidentAndMatchTheBase() throws IOException {
        RandomAccessDataset part = test.subDataset(List.of(9L, 3L, 4L, 5L));
        assertThat(part).isInstanceOf(ResidentSubset.class);
        assertThat(part.size()).isEqualTo(4);
        RandomAccessDataset nested = part.subDataset(1, 4);
        assertThat(nested.size()).isEqualTo(3);
        try (NDManager manager = NDManager.newBaseManager()) {
            assertThat(part.get(manager, 0).getLabels().head().getLong()).isEqualTo(labelOf(9));
            try (Batch batch = ((ArrayDataset) nested).getByRange(manager.newSubManager(), 0, 3)) {
                assertThat(batch.getLabels().head().toLongArray()).containsExactly(labelOf(3), labelOf(4), labelOf(5));
            }
            try (Batch batch = ((ArrayDataset) part).getByIndices(manager.newSubManager(), 3, 0)) {
                assertThat(batch.getLabels().head().toLongArray()).containsExactly(labelOf(5), labelOf(9));
            }
        }
        assertThatThrownBy(() -> test.subDataset(List.of(0L, 10_000L)))
                .isInstanceOf(IndexOutOfBoundsException.class)
                .hasMessageContaining("10000");
    }

    private static long labelOf(int index) {
        try (NDArray label = test.labels().get(index)) {
            return label.getLong();
        }
    }

    @Test
    void missingFilesNameThePathAndTheFix(@TempDir Path dir) {
        assertThatThrownBy(() -> MnistDataset.builder().root(dir).build())
                .isInstanceOf(FileNotFoundException.class)
                .hasMessage(
                        "MNIST file "
                                + dir.resolve("train-images-idx3-ubyte")
                                + " not found. Run scripts/fetch-mnist.sh (or set -Dmnist.dir / MNIST_DIR to a"
                                + " folder with the IDX files)");
    }

    @Test
    void wrongMagicIsReported(@TempDir Path dir) throws IOException {
        writeImages(dir, 0x00000801, 2, 28, 28, 2 * 784);
        writeLabels(dir, 0x00000801, 2, 2);
        assertThatThrownBy(() -> MnistDataset.builder().root(dir).usage(Usage.TEST).build())
                .isInstanceOf(IOException.class)
                .hasMessageContaining(dir.resolve("t10k-images-idx3-ubyte").toString())
                .hasMessageContaining("magic number is 0x00000801, expected 0x00000803");
    }

    @Test
    void truncatedFileIsReported(@TempDir Path dir) throws IOException {
        writeImages(dir, 0x00000803, 3, 28, 28, 2 * 784 + 5);
        writeLabels(dir, 0x00000801, 3, 3);
        assertThatThrownBy(() -> MnistDataset.builder().root(dir).usage(Usage.TEST).build())
                .isInstanceOf(IOException.class)
                .hasMessageContaining(dir.resolve("t10k-images-idx3-ubyte").toString())
                .hasMessageContaining("is truncated")
                .hasMessageContaining("[3, 28, 28]");
    }

    @Test
    void fileShorterThanItsHeaderIsReported(@TempDir Path dir) throws IOException {
        Files.write(dir.resolve("t10k-images-idx3-ubyte"), new byte[] {0, 0, 8, 3, 0});
        writeLabels(dir, 0x00000801, 1, 1);
        assertThatThrownBy(() -> MnistDataset.builder().root(dir).usage(Usage.TEST).build())
                .isInstanceOf(IOException.class)
                .hasMessageContaining("is truncated")
                .hasMessageContaining("16-byte IDX header");
    }

    @Test
    void trailingBytesAreReported(@TempDir Path dir) throws IOException {
        writeImages(dir, 0x00000803, 1, 28, 28, 784);
        writeLabels(dir, 0x00000801, 1, 3);
        assertThatThrownBy(() -> MnistDataset.builder().root(dir).usage(Usage.TEST).build())
                .isInstanceOf(IOException.class)
                .hasMessageContaining(dir.resolve("t10k-labels-idx1-ubyte").toString())
                .hasMessageContaining("has 11 bytes");
    }

    @Test
    void wrongImageSizeAndCountMismatchAreReported(@TempDir Path dir) throws IOException {
        writeImages(dir, 0x00000803, 2, 32, 32, 2 * 32 * 32);
        writeLabels(dir, 0x00000801, 2, 2);
        assertThatThrownBy(() -> MnistDataset.builder().root(dir).usage(Usage.TEST).build())
                .hasMessageContaining("holds 32x32 images, expected 28x28");
        writeImages(dir, 0x00000803, 2, 28, 28, 2 * 784);
        writeLabels(dir, 0x00000801, 3, 3);
        assertThatThrownBy(() -> MnistDataset.builder().root(dir).usage(Usage.TEST).build())
                .hasMessageContaining("holds 2 images but")
                .hasMessageContaining("holds 3 labels");
    }

    @Test
    void smallValidFilesLoadExactly(@TempDir Path dir) throws IOException {
        byte[] pixels = new byte[2 * 784];
        pixels[0] = (byte) 255;
        pixels[784 + 1] = (byte) 51;
        Files.write(dir.resolve("t10k-images-idx3-ubyte"), idx(0x00000803, new int[] {2, 28, 28}, pixels));
        Files.write(dir.resolve("t10k-labels-idx1-ubyte"), idx(0x00000801, new int[] {2}, new byte[] {3, 8}));
        try (MnistDataset tiny = MnistDataset.builder().root(dir).usage(Usage.TEST).build()) {
            assertThat(tiny.labels().toLongArray()).containsExactly(3, 8);
            float[] values = tiny.images().toFloatArray();
            assertThat(values[0]).isEqualTo(1f);
            assertThat(values[784 + 1]).isEqualTo(0.2f);
            assertThat(tiny.images().sum().getFloat()).isCloseTo(1.2f, Offset.offset(1e-6f));
        }
    }

    @Test
    void builderRejectsBadArguments() {
        assertThatThrownBy(() -> MnistDataset.builder().usage(Usage.VALIDATION))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("VALIDATION")
                .hasMessageContaining("randomSplit");
        assertThatThrownBy(() -> MnistDataset.builder().limit(0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("MNIST limit must be >= 1, got 0");
    }

    private static void writeImages(Path dir, int magic, int count, int rows, int cols, int payloadBytes)
            throws IOException {
        byte[] content = idx(magic, new int[] {count, rows, cols}, new byte[payloadBytes]);
        Files.write(dir.resolve("t10k-images-idx3-ubyte"), content);
    }

    private static void writeLabels(Path dir, int magic, int count, int payloadBytes) throws IOException {
        Files.write(dir.resolve("t10k-labels-idx1-ubyte"), idx(magic, new int[] {count}, new byte[payloadBytes]));
    }

    private static byte[] idx(int magic, int[] dims, byte[] payload) {
        ByteBuffer buffer = ByteBuffer.allocate(4 + 4 * dims.length + payload.length);
        buffer.putInt(magic);
        Arrays.stream(dims).forEach(buffer::putInt);
        buffer.put(payload);
        return buffer.array();
    }
}
