package io.github.djllightning.data;

import static io.github.djllightning.data.TestDatasets.epoch;
import static io.github.djllightning.data.TestDatasets.flatten;
import static io.github.djllightning.data.TestDatasets.ids;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.dataset.ArrayDataset;
import ai.djl.training.dataset.Batch;
import ai.djl.training.dataset.Dataset.Usage;
import ai.djl.training.dataset.RandomAccessDataset;
import ai.djl.training.dataset.Record;
import ai.djl.translate.Batchifier;
import io.github.djllightning.data.TestDatasets.RecordDataset;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DataLoaderTest {

    private static MnistDataset mnist;
    private NDManager manager;

    @BeforeAll
    static void loadMnist() throws IOException {
        mnist = MnistDataset.builder().usage(Usage.TEST).limit(500).build();
    }

    @AfterAll
    static void closeMnist() {
        mnist.close();
    }

    @BeforeEach
    void createManager() {
        manager = NDManager.newBaseManager();
    }

    @AfterEach
    void closeManager() {
        manager.close();
    }

    /**
     * Datasets of 23 samples for each way of batching: a plain ArrayDataset (native gather), per-sample records,
     * a view of MNIST (native gather through a row map), an ArrayDataset subclass and a DJL sub-dataset (their own
     * getByRange / getByIndices).
     */
    private List<Function<NDManager, RandomAccessDataset>> routes() {
        return List.of(
                m -> TestDatasets.array(m, 23),
                m -> new RecordDataset(23),
                m -> mnistWithIds(23),
                m -> TestDatasets.arraySubclass(m, 23),
                m -> TestDatasets.array(m, 40).subDataset(0, 23));
    }

    /**
     * A resident dataset whose labels are not ids: map its batches back to sample ids through the images, which
     * are distinct for the first samples of MNIST.
     */
    private RandomAccessDataset mnistWithIds(int n) {
        return mnist.subDataset(LongStream.range(0, n).boxed().collect(Collectors.toList()));
    }

    @Test
    void numBatchesRoundsUpOrDropsTheLastPartialBatch() {
        ArrayDataset dataset = TestDatasets.array(manager, 10);
        DataLoader keep = DataLoader.of(dataset).batchSize(3).build();
        DataLoader drop = DataLoader.of(dataset).batchSize(3).dropLast(true).build();
        assertThat(keep.numBatches()).isEqualTo(4);
        assertThat(drop.numBatches()).isEqualTo(3);
        assertThat(keep.datasetSize()).isEqualTo(10);
        assertThat(epoch(keep, manager, 0, 0)).extracting(b -> b.length).containsExactly(3, 3, 3, 1);
        assertThat(epoch(drop, manager, 0, 0)).extracting(b -> b.length).containsExactly(3, 3, 3);
        assertThat(DataLoader.of(dataset).batchSize(10).build().numBatches()).isEqualTo(1);
        assertThat(DataLoader.of(dataset).batchSize(11).dropLast(true).build().numBatches()).isZero();
        assertThat(epoch(DataLoader.of(dataset).batchSize(11).dropLast(true).build(), manager, 0, 0)).isEmpty();
    }

    @Test
    void defaultsAndAccessors() {
        DataLoader loader = DataLoader.of(TestDatasets.array(manager, 4)).build();
        assertThat(loader.batchSize()).isEqualTo(1);
        assertThat(loader.shuffle()).isFalse();
        assertThat(loader.seed()).isZero();
        assertThat(loader.dropLast()).isFalse();
        assertThat(loader.prefetch()).isZero();
        assertThat(loader.dataset()).isPresent();
        assertThat(loader.toString()).contains("batchSize=1").contains("numBatches=4");
        DataLoader copy = loader.newBuilder().batchSize(2).seed(7).build();
        assertThat(copy.batchSize()).isEqualTo(2);
        assertThat(copy.seed()).isEqualTo(7);
    }

    @Test
    void builderRejectsBadValuesEchoingThem() {
        DataLoader.Builder builder = DataLoader.of(TestDatasets.array(manager, 4));
        assertThatThrownBy(() -> builder.batchSize(0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("batchSize must be >= 1, got 0");
        assertThatThrownBy(() -> builder.prefetch(-2))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("prefetch must be >= 0")
                .hasMessageContaining("got -2");
        DataLoader loader = builder.batchSize(2).build();
        assertThatThrownBy(() -> loader.iterator(manager, 0, 3))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("startBatch must be in [0, 2], got 3");
        assertThatThrownBy(() -> loader.iterator(manager, -1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("epoch must be >= 0, got -1");
    }

    @Test
    void unshuffledBatchesAreSequentialAndCarryDataAndLabels() {
        DataLoader loader = DataLoader.of(TestDatasets.array(manager, 5)).batchSize(2).build();
        try (BatchIterator it = loader.iterator(manager, 0)) {
            assertThat(it.nextBatchIndex()).isZero();
            try (Batch batch = it.next()) {
                assertThat(ids(batch)).containsExactly(0, 1);
                assertThat(batch.getData().head().getShape()).isEqualTo(new Shape(2, 2));
                assertThat(batch.getData().head().toFloatArray()).containsExactly(0, 100, 1, 101);
                assertThat(batch.getSize()).isEqualTo(2);
                assertThat(batch.getManager().getParentManager()).isSameAs(manager);
            }
            assertThat(it.nextBatchIndex()).isEqualTo(1);
        }
        assertThat(flatten(epoch(loader, manager, 3, 0))).containsExactly(0, 1, 2, 3, 4);
    }

    @Test
    void datasetsWithoutLabelsGiveBatchesWithEmptyLabels() {
        NDArray x = manager.arange(0f, 20f).reshape(10, 2);
        ArrayDataset dataset = new ArrayDataset.Builder().setData(x).setSampling(4, false).build();
        for (boolean shuffle : new boolean[] {false, true}) {
            DataLoader loader = DataLoader.of(dataset).batchSize(4).shuffle(shuffle).prefetch(1).build();
            List<Float> firstColumn = new ArrayList<>();
            try (BatchIterator it = loader.iterator(manager, 0)) {
                while (it.hasNext()) {
                    try (Batch batch = it.next()) {
                        assertThat(batch.getLabels()).isEmpty();
                        float[] values = batch.getData().singletonOrThrow().toFloatArray();
                        for (int i = 0; i < values.length; i += 2) {
                            firstColumn.add(values[i] / 2);
                        }
                    }
                }
            }
            assertThat(firstColumn.stream().mapToLong(Float::longValue).toArray())
                    .containsExactly(loader.sampleOrder(0));
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 2, 3, 4})
    void everyRouteYieldsEachSampleOncePerShuffledEpochInSampleOrder(int route) {
        RandomAccessDataset dataset = routes().get(route).apply(manager);
        DataLoader loader = DataLoader.of(dataset).batchSize(4).shuffle(true).seed(42).build();
        for (int e = 0; e < 3; e++) {
            long[] order = loader.sampleOrder(e);
            assertThat(order).hasSize(23);
            assertThat(LongStream.of(order).sorted().toArray()).isEqualTo(LongStream.range(0, 23).toArray());
            assertThat(samples(loader, e, 0)).containsExactly(order);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 2, 3, 4})
    void prefetchYieldsTheSameBatchesAsLoadingOnTheCallersThread(int route) {
        RandomAccessDataset dataset = routes().get(route).apply(manager);
        DataLoader direct = DataLoader.of(dataset).batchSize(5).shuffle(true).seed(3).build();
        DataLoader prefetched = direct.newBuilder().prefetch(2).build();
        for (int e = 0; e < 2; e++) {
            assertThat(samples(prefetched, e, 0)).containsExactly(samples(direct, e, 0));
        }
        assertThat(samples(prefetched.withoutShuffle(), 0, 0)).containsExactly(LongStream.range(0, 23).toArray());
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 2, 3, 4})
    void resumingMidEpochYieldsExactlyTheTailOfTheEpoch(int route) {
        RandomAccessDataset dataset = routes().get(route).apply(manager);
        for (int prefetch : new int[] {0, 3}) {
            DataLoader loader = DataLoader.of(dataset).batchSize(4).shuffle(true).seed(9).prefetch(prefetch).build();
            long[] full = samples(loader, 2, 0);
            for (long k = 0; k <= loader.numBatches(); k++) {
                long[] tail = samples(loader, 2, k);
                assertThat(tail).containsExactly(Arrays.copyOfRange(full, (int) Math.min(23, k * 4), 23));
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 2, 3, 4})
    void everyBatchReportsTheDatasetIndicesOfItsSamples(int route) {
        RandomAccessDataset dataset = routes().get(route).apply(manager);
        for (boolean shuffle : new boolean[] {false, true}) {
            DataLoader loader = DataLoader.of(dataset).batchSize(4).shuffle(shuffle).seed(5).prefetch(1).build();
            long[] order = loader.sampleOrder(1);
            for (long start : new long[] {0, 2}) {
                List<Object> reported = new ArrayList<>();
                try (BatchIterator it = loader.iterator(manager, 1, start)) {
                    while (it.hasNext()) {
                        try (Batch batch = it.next()) {
                            assertThat(batch.getIndices()).hasSize(batch.getSize());
                            reported.addAll(batch.getIndices());
                        }
                    }
                }
                assertThat(reported).containsExactlyElementsOf(
                        LongStream.of(order).skip(start * 4).boxed().collect(Collectors.toList()));
            }
            assertThat(samples(loader, 1, 0)).containsExactly(order);
        }
    }

    @Test
    void resumingDoesNotLoadTheSkippedBatches() {
        RecordDataset dataset = new RecordDataset(20);
        DataLoader loader = DataLoader.of(dataset).batchSize(4).shuffle(true).build();
        assertThat(epoch(loader, manager, 1, 3)).hasSize(2);
        assertThat(dataset.reads.get()).isEqualTo(8);
    }

    @Test
    void orderChangesBetweenEpochsAndIsAFunctionOfSeedAndEpoch() {
        DataLoader a = DataLoader.of(TestDatasets.array(manager, 50)).batchSize(8).shuffle(true).seed(42).build();
        DataLoader b = DataLoader.of(new RecordDataset(50)).batchSize(3).shuffle(true).seed(42).prefetch(1).build();
        DataLoader otherSeed = a.newBuilder().seed(43).build();
        assertThat(a.sampleOrder(0)).isNotEqualTo(a.sampleOrder(1));
        assertThat(a.sampleOrder(1)).isEqualTo(b.sampleOrder(1));
        assertThat(a.sampleOrder(0)).isNotEqualTo(otherSeed.sampleOrder(0));
        assertThat(flatten(epoch(a, manager, 5, 0))).containsExactly(flatten(epoch(b, manager, 5, 0)));
        assertThat(flatten(epoch(a, manager, 5, 0))).isNotEqualTo(flatten(epoch(a, manager, 6, 0)));
        assertThat(a.withoutShuffle().sampleOrder(4)).containsExactly(LongStream.range(0, 50).toArray());
    }

    @Test
    void withoutShuffleKeepsEverythingElse() {
        DataLoader shuffled =
                DataLoader.of(TestDatasets.array(manager, 9)).batchSize(2).shuffle(true).seed(5).dropLast(true)
                        .prefetch(1).build();
        DataLoader plain = shuffled.withoutShuffle();
        assertThat(plain.shuffle()).isFalse();
        assertThat(plain.batchSize()).isEqualTo(2);
        assertThat(plain.dropLast()).isTrue();
        assertThat(plain.prefetch()).isEqualTo(1);
        assertThat(plain.seed()).isEqualTo(5);
        assertThat(plain.withoutShuffle()).isSameAs(plain);
        assertThat(flatten(epoch(plain, manager, 7, 0))).containsExactly(0, 1, 2, 3, 4, 5, 6, 7);
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 2})
    void aFailingSampleSurfacesFromNextWithTheOriginalCause(int prefetch) {
        RecordDataset dataset = new RecordDataset(10, 6);
        DataLoader loader = DataLoader.of(dataset).batchSize(3).prefetch(prefetch).build();
        try (BatchIterator it = loader.iterator(manager, 4)) {
            it.next().close();
            it.next().close();
            Throwable thrown = catchNextOrHasNext(it);
            assertThat(thrown)
                    .isInstanceOf(DataLoaderException.class)
                    .hasMessageContaining("batch 2 of epoch 4")
                    .hasMessageContaining("samples 6..8 of RecordDataset(10)")
                    .hasCauseInstanceOf(IOException.class);
            assertThat(thrown.getCause()).hasMessage("cannot read sample 6");
            assertThatThrownBy(it::hasNext).isInstanceOf(DataLoaderException.class).hasCause(thrown.getCause());
        }
        assertThat(manager.getManagedArrays()).isEmpty();
    }

    private static Throwable catchNextOrHasNext(BatchIterator it) {
        try {
            it.hasNext();
            it.next().close();
        } catch (RuntimeException e) {
            return e;
        }
        throw new AssertionError("expected a failure");
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 2, 3, 4})
    void closingMidEpochLeavesNoArraysBehind(int route) {
        RandomAccessDataset dataset = routes().get(route).apply(manager);
        for (int prefetch : new int[] {0, 1, 4}) {
            try (NDManager parent = manager.newSubManager()) {
                DataLoader loader = DataLoader.of(dataset).batchSize(2).shuffle(true).prefetch(prefetch).build();
                BatchIterator it = loader.iterator(parent, 0);
                Batch first = it.next();
                List<NDArray> arrays = new ArrayList<>(first.getData());
                arrays.addAll(first.getLabels());
                first.close();
                assertThat(arrays).allMatch(NDArray::isReleased);
                try (Batch second = it.next()) {
                    assertThat(second.getSize()).isEqualTo(2);
                }
                it.close();
                it.close();
                assertThat(it.hasNext()).isFalse();
                assertThat(parent.getManagedArrays()).as("prefetch %d", prefetch).isEmpty();
            }
        }
    }

    @Test
    void closeStopsAPrefetchThreadThatIsWaitingInsideTheDataset() throws InterruptedException {
        CountDownLatch entered = new CountDownLatch(3);
        RandomAccessDataset slow =
                new RecordDataset(100) {
                    @Override
                    public Record get(NDManager m, long index) throws IOException {
                        entered.countDown();
                        try {
                            Thread.sleep(index >= 2 ? 60_000 : 0);
                        } catch (InterruptedException e) {
                            throw new InterruptedIOException("stopped");
                        }
                        return super.get(m, index);
                    }
                };
        NDManager parent = manager.newSubManager();
        BatchIterator it = DataLoader.of(slow).batchSize(1).prefetch(2).build().iterator(parent, 99);
        try (Batch first = it.next()) {
            assertThat(ids(first)).containsExactly(0);
        }
        assertThat(entered.await(10, TimeUnit.SECONDS)).isTrue();
        long start = System.nanoTime();
        it.close();
        assertThat((System.nanoTime() - start) / 1e9).isLessThan(4.0);
        assertThat(parent.getManagedArrays()).isEmpty();
        assertThat(Thread.getAllStackTraces().keySet())
                .noneMatch(t -> t.getName().equals("dataloader-prefetch-epoch-99") && t.isAlive());
    }

    @Test
    void anExhaustedEpochFreesItsIndexArrayEvenWithoutClose() {
        DataLoader loader = DataLoader.of(mnistWithIds(10)).batchSize(4).shuffle(true).build();
        BatchIterator it = loader.iterator(manager, 0);
        assertThat(manager.getManagedArrays()).isNotEmpty();
        while (it.hasNext()) {
            it.next().close();
        }
        assertThat(manager.getManagedArrays()).isEmpty();
        assertThatThrownBy(it::next).isInstanceOf(NoSuchElementException.class);
    }

    @Test
    void stepScopesOnTheCallingThreadDoNotCloseTheEpochArrays() {
        DataLoader loader = DataLoader.of(TestDatasets.array(manager, 10)).batchSize(3).shuffle(true).build();
        NDManager parent = manager.newSubManager();
        BatchIterator it;
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            it = loader.iterator(parent, 0);
        }
        List<long[]> seen = new ArrayList<>();
        while (it.hasNext()) {
            try (NDScope step = new NDScope();
                    Batch batch = it.next()) {
                step.suppressNotUsedWarning();
                seen.add(ids(batch));
            }
        }
        assertThat(flatten(seen)).containsExactly(loader.sampleOrder(0));
        assertThat(parent.getManagedArrays()).isEmpty();
    }

    @Test
    void anArrayDatasetSubclassIsBatchedThroughItsOwnMethods() {
        AtomicInteger byIndices = new AtomicInteger();
        AtomicInteger byRange = new AtomicInteger();
        ArrayDataset plain = TestDatasets.array(manager, 10);
        Batch all = plain.getByRange(manager.newSubManager(), 0, 10);
        ArrayDataset.Builder builder =
                new ArrayDataset.Builder()
                        .setData(all.getData().head())
                        .optLabels(all.getLabels().head())
                        .setSampling(1, false);
        ArrayDataset counting =
                new ArrayDataset(builder) {
                    @Override
                    public Batch getByIndices(NDManager m, long... indices) {
                        byIndices.incrementAndGet();
                        return super.getByIndices(m, indices);
                    }

                    @Override
                    public Batch getByRange(NDManager m, long fromIndex, long toIndex) {
                        byRange.incrementAndGet();
                        return super.getByRange(m, fromIndex, toIndex);
                    }
                };
        DataLoader loader = DataLoader.of(counting).batchSize(4).shuffle(true).build();
        assertThat(flatten(epoch(loader, manager, 1, 0))).containsExactly(loader.sampleOrder(1));
        assertThat(byIndices).hasValue(3);
        assertThat(flatten(epoch(loader.withoutShuffle(), manager, 1, 0))).hasSize(10);
        assertThat(byRange).hasValue(3);
    }

    @Test
    void thePrefetchThreadRunsWithAutogradOff() throws InterruptedException {
        AtomicBoolean freshThreadGradMode = new AtomicBoolean();
        Thread probe = new Thread(() -> freshThreadGradMode.set(JniUtils.isGradMode()));
        probe.start();
        probe.join();
        assertThat(freshThreadGradMode).as("libtorch starts new threads with grad mode on").isTrue();

        RecordDataset dataset = new RecordDataset(12);
        DataLoader loader = DataLoader.of(dataset).batchSize(4).prefetch(2).build();
        assertThat(epoch(loader, manager, 0, 0)).hasSize(3);
        assertThat(dataset.gradModes).hasSize(12).containsOnly(false);
        assertThat(dataset.threads).allMatch(name -> name.startsWith("dataloader-prefetch-epoch-0"));
    }

    @Test
    void residentBatchesMatchTheDatasetRows() {
        RandomAccessDataset part = mnist.subDataset(List.of(7L, 400L, 3L, 99L, 250L));
        DataLoader loader = DataLoader.of(part).batchSize(5).build();
        try (BatchIterator it = loader.iterator(manager, 0);
                Batch batch = it.next();
                NDArray rows = manager.create(new long[] {7, 400, 3, 99, 250});
                NDArray expectedImages = mnist.images().get(new NDIndex("{}", rows));
                NDArray expectedLabels = mnist.labels().get(new NDIndex("{}", rows))) {
            assertThat(batch.getData().head().getShape()).isEqualTo(new Shape(5, 1, 28, 28));
            assertThat(batch.getData().head().contentEquals(expectedImages)).isTrue();
            assertThat(batch.getLabels().head().contentEquals(expectedLabels)).isTrue();
        }
    }

    @Test
    void aCollectionOfBatchesIsHandedOutAsViewsAndSurvivesEpochs() {
        List<Batch> stored = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            NDManager owner = manager.newSubManager();
            NDArray x = owner.create(new float[] {i, i + 0.5f});
            NDArray y = owner.create(new long[] {i, i});
            stored.add(new Batch(owner, new NDList(x), new NDList(y), 2, Batchifier.STACK, Batchifier.STACK, i, 3));
        }
        NDManager parent = manager.newSubManager();
        for (int prefetch : new int[] {0, 2}) {
            DataLoader loader = DataLoader.of(stored).batchSize(2).prefetch(prefetch).build();
            assertThat(loader.numBatches()).isEqualTo(3);
            assertThat(loader.datasetSize()).isEqualTo(-1);
            for (int e = 0; e < 2; e++) {
                assertThat(flatten(epoch(loader, parent, e, 0))).containsExactly(0, 0, 1, 1, 2, 2);
            }
            assertThat(flatten(epoch(loader, parent, 0, 2))).containsExactly(2, 2);
            try (BatchIterator it = loader.iterator(parent, 0);
                    Batch first = it.next()) {
                assertThat(first).isNotSameAs(stored.get(0));
                assertThat(first.getManager().getParentManager()).isSameAs(parent);
                assertThat(first.getData().head().toFloatArray()).containsExactly(0f, 0.5f);
            }
        }
        assertThat(parent.getManagedArrays()).isEmpty();
        assertThat(stored.get(2).getData().head().isReleased()).isFalse();
        assertThatThrownBy(() -> DataLoader.of(stored).shuffle(true).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("shuffle is not supported");
        assertThatThrownBy(() -> DataLoader.of(stored).dropLast(true).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("dropLast is not supported");
        assertThatThrownBy(() -> DataLoader.of(stored).build().sampleOrder(0))
                .isInstanceOf(IllegalStateException.class);
    }

    @Test
    void anIterableOfBatchesIsPassedThroughWithUnknownLength() {
        List<Batch> created = new ArrayList<>();
        Iterable<Batch> generator =
                () ->
                        new Iterator<>() {
                            private int next;

                            @Override
                            public boolean hasNext() {
                                return next < 4;
                            }

                            @Override
                            public Batch next() {
                                NDManager owner = manager.newSubManager();
                                NDArray y = owner.create(new long[] {next++});
                                Batch batch =
                                        new Batch(owner, new NDList(y.duplicate()), new NDList(y), 1,
                                                Batchifier.STACK, Batchifier.STACK, next, 4);
                                created.add(batch);
                                return batch;
                            }
                        };
        DataLoader loader = DataLoader.of(generator).build();
        assertThat(loader.numBatches()).isEqualTo(-1);
        try (BatchIterator it = loader.iterator(manager, 0, 1)) {
            Batch batch = it.next();
            assertThat(batch).isSameAs(created.get(1));
            assertThat(ids(batch)).containsExactly(1);
            batch.close();
        }
        assertThat(created.get(0).getData()).allMatch(NDArray::isReleased);
        assertThat(flatten(epoch(loader.newBuilder().prefetch(1).build(), manager, 0, 0))).containsExactly(0, 1, 2, 3);
        assertThat(manager.getManagedArrays()).isEmpty();
    }

    @Test
    void fisherYatesIsUniformAndKeepsElementsInPlaceAsOftenAsChance() {
        int n = 5;
        int epochs = 120_000;
        DataLoader loader = DataLoader.of(new RecordDataset(n)).shuffle(true).seed(2024).build();
        long[][] itemAtPosition = new long[n][n];
        long[] permutationCounts = new long[3125];
        long withFixedPoint = 0;
        for (int e = 0; e < epochs; e++) {
            long[] order = loader.sampleOrder(e);
            int code = 0;
            boolean fixed = false;
            for (int p = 0; p < n; p++) {
                itemAtPosition[(int) order[p]][p]++;
                code = code * n + (int) order[p];
                fixed |= order[p] == p;
            }
            permutationCounts[code]++;
            withFixedPoint += fixed ? 1 : 0;
        }
        double expectedCell = epochs / (double) n;
        double chiCells = 0;
        for (long[] row : itemAtPosition) {
            for (long count : row) {
                chiCells += (count - expectedCell) * (count - expectedCell) / expectedCell;
            }
        }
        // 16 degrees of freedom: mean 16, sd ~5.7; 60 is far out in the tail.
        assertThat(chiCells).isLessThan(60);

        double expectedPermutation = epochs / 120.0;
        double chiPermutations = 0;
        int seen = 0;
        for (long count : permutationCounts) {
            if (count > 0) {
                seen++;
                chiPermutations += (count - expectedPermutation) * (count - expectedPermutation) / expectedPermutation;
            }
        }
        assertThat(seen).as("all 120 permutations occur, not just the 24 cyclic ones").isEqualTo(120);
        chiPermutations += (120 - seen) * expectedPermutation;
        // 119 degrees of freedom: mean 119, sd ~15.4.
        assertThat(chiPermutations).isLessThan(210);
        assertThat(permutationCounts[0 * 625 + 1 * 125 + 2 * 25 + 3 * 5 + 4]).as("identity").isGreaterThan(800);
        // 1 - 1/e of uniform permutations of 5 have a fixed point (76/120); Sattolo's have none.
        assertThat(withFixedPoint / (double) epochs).isBetween(0.62, 0.645);
    }

    /** Runs an epoch and returns the sample ids in the order seen (for MNIST views: ids recovered from images). */
    private long[] samples(DataLoader loader, int epoch, long startBatch) {
        RandomAccessDataset dataset = loader.dataset().orElseThrow();
        if (!(dataset instanceof ResidentSubset)) {
            return flatten(epoch(loader, manager, epoch, startBatch));
        }
        List<Long> found = new ArrayList<>();
        int n = (int) dataset.size();
        try (NDManager scratch = manager.newSubManager();
                BatchIterator it = loader.iterator(manager, epoch, startBatch)) {
            NDArray reference = mnist.images().get(scratch, new NDIndex().addSliceDim(0, n)).reshape(n, -1);
            while (it.hasNext()) {
                try (Batch batch = it.next()) {
                    NDArray images = batch.getData().head().reshape(batch.getSize(), -1);
                    for (int i = 0; i < batch.getSize(); i++) {
                        NDArray diff = reference.sub(images.get(i)).abs().sum(new int[] {1});
                        found.add(diff.argMin().getLong());
                    }
                }
            }
        }
        return found.stream().mapToLong(Long::longValue).toArray();
    }
}
