package io.github.djllightning.data;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.dataset.ArrayDataset;
import ai.djl.training.dataset.Batch;
import ai.djl.training.dataset.RandomAccessDataset;
import ai.djl.training.dataset.Record;
import ai.djl.util.Progress;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/** Small datasets whose samples carry their own index as label, so tests can see which samples a batch holds. */
final class TestDatasets {

    private TestDatasets() {}

    /** An {@link ArrayDataset} of {@code n} samples: data row {@code i} is {@code [i, i + 100]}, label {@code i}. */
    static ArrayDataset array(NDManager manager, int n) {
        NDArray ids = manager.arange(0, n, 1, DataType.INT64);
        NDArray column = ids.toType(DataType.FLOAT32, false).reshape(n, 1);
        NDArray data = column.concat(column.add(100), 1);
        return new ArrayDataset.Builder().setData(data).optLabels(ids).setSampling(1, false).build();
    }

    /**
     * Like {@link #array}, but a subclass, so the loader must use its {@code getByRange} / {@code getByIndices}
     * (a subclass may override them) instead of gathering from its arrays directly.
     */
    static ArrayDataset arraySubclass(NDManager manager, int n) {
        ArrayDataset plain = array(manager, n);
        Batch all = plain.getByRange(manager.newSubManager(), 0, n);
        ArrayDataset.Builder builder =
                new ArrayDataset.Builder()
                        .setData(all.getData().head())
                        .optLabels(all.getLabels().head())
                        .setSampling(1, false);
        return new ArrayDataset(builder) {};
    }

    /** The sample ids (labels) of a batch. */
    static long[] ids(Batch batch) {
        return batch.getLabels().head().toLongArray();
    }

    /** Runs one epoch (from {@code startBatch}) and returns the ids of each batch, closing everything. */
    static List<long[]> epoch(DataLoader loader, NDManager parent, int epoch, long startBatch) {
        List<long[]> batches = new ArrayList<>();
        try (BatchIterator it = loader.iterator(parent, epoch, startBatch)) {
            while (it.hasNext()) {
                try (Batch batch = it.next()) {
                    batches.add(ids(batch));
                }
            }
        }
        return batches;
    }

    /** Concatenates per-batch ids. */
    static long[] flatten(List<long[]> batches) {
        return batches.stream().flatMapToLong(Arrays::stream).toArray();
    }

    /**
     * A dataset without bulk access (so the loader stacks records), which counts its reads, notes the grad mode and
     * thread of each read, and can fail on a chosen index.
     */
    static class RecordDataset extends RandomAccessDataset {

        final AtomicInteger reads = new AtomicInteger();
        final Queue<Boolean> gradModes = new ConcurrentLinkedQueue<>();
        final Queue<String> threads = new ConcurrentLinkedQueue<>();
        private final int size;
        private final long failAt;

        RecordDataset(int size) {
            this(size, -1);
        }

        RecordDataset(int size, long failAt) {
            super(new MnistDataset.DjlDefaults().setSampling(1, false));
            this.size = size;
            this.failAt = failAt;
        }

        @Override
        public Record get(NDManager manager, long index) throws IOException {
            reads.incrementAndGet();
            gradModes.add(JniUtils.isGradMode());
            threads.add(Thread.currentThread().getName());
            if (index == failAt) {
                throw new IOException("cannot read sample " + index);
            }
            NDArray data = manager.create(new float[] {index, index + 100});
            NDArray label = manager.create(index);
            return new Record(new NDList(data), new NDList(label));
        }

        @Override
        protected long availableSize() {
            return size;
        }

        @Override
        public void prepare(Progress progress) {}

        @Override
        public String toString() {
            return "RecordDataset(" + size + ")";
        }
    }
}
