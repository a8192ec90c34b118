package io.github.djllightning.data;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.dataset.ArrayDataset;
import ai.djl.training.dataset.Batch;
import ai.djl.training.dataset.RandomAccessDataset;
import ai.djl.training.dataset.Record;
import ai.djl.translate.Batchifier;
import io.github.djllightning.util.StepManagers;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * The batches of one epoch of a {@link RandomAccessDataset}, each built in a fresh sub-manager of the caller's
 * manager, by the cheapest route the dataset allows.
 *
 * <ul>
 *   <li>Resident datasets (see {@link ResidentView}: {@link MnistDataset}, plain {@link ArrayDataset}s and their
 *       views): the epoch's sample order becomes one native index array; a batch is a slice view of it and one native
 *       gather per array, so nothing is allocated from Java memory per batch. Unshuffled batches of a base are plain
 *       slice views (no copy at all).
 *   <li>Other {@link ArrayDataset}s (subclasses, DJL's sub-datasets): {@code getByRange} when unshuffled, {@code
 *       getByIndices} when shuffled, so overrides are honoured.
 *   <li>Any other dataset: {@code get} per sample, stacked with {@link Batchifier#STACK}.
 * </ul>
 *
 * <p>Every batch reports the dataset indices of its samples through {@link Batch#getIndices()}.
 */
final class DatasetBatchSource implements BatchSource {

    private enum Route {
        RESIDENT_SLICE,
        RESIDENT_GATHER,
        ARRAY_RANGE,
        ARRAY_INDICES,
        RECORDS
    }

    private final RandomAccessDataset dataset;
    private final NDManager parent;
    private final int epoch;
    private final int batchSize;
    private final long size;
    private final long numBatches;
    private final long[] order;
    private final Route route;
    private final ResidentView resident;
    private NDManager epochManager;
    private NDList fullData;
    private NDList fullLabels;
    private NDArray rows;
    private long next;

    DatasetBatchSource(DataLoader loader, NDManager parent, int epoch, long startBatch) {
        this.dataset = loader.dataset().orElseThrow();
        this.parent = parent;
        this.epoch = epoch;
        this.batchSize = loader.batchSize();
        this.size = loader.datasetSize();
        this.numBatches = loader.numBatches();
        this.next = startBatch;
        this.resident = ResidentView.of(dataset);
        boolean shuffle = loader.shuffle();
        if (resident != null) {
            route = !shuffle && resident.map() == null ? Route.RESIDENT_SLICE : Route.RESIDENT_GATHER;
        } else if (dataset instanceof ArrayDataset) {
            route = shuffle ? Route.ARRAY_INDICES : Route.ARRAY_RANGE;
        } else {
            route = Route.RECORDS;
        }
        this.order = shuffle ? loader.sampleOrder(epoch) : null;
        if (route == Route.RESIDENT_GATHER && next < numBatches) {
            openEpoch(order != null ? order : Shuffle.identity((int) size));
        }
    }

    /** Takes views of the base's full arrays and makes the epoch's row order a native array. */
    private void openEpoch(long[] sampleOrder) {
        epochManager = parent.newSubManager();
        try {
            ArrayDataset base = resident.base();
            Batch whole = base.getByRange(epochManager, 0, base.size());
            epochManager.setName("dataloader-epoch-" + epoch);
            fullData = whole.getData();
            fullLabels = whole.getLabels();
            rows = nativeLongs(epochManager, resident.rows(sampleOrder));
            // A step scope open on the calling thread must not take the epoch's arrays with it.
            NDScope.unregister(fullData);
            NDScope.unregister(fullLabels);
            NDScope.unregister(rows);
        } catch (RuntimeException | Error e) {
            close();
            throw e;
        }
    }

    /**
     * Copies indices into an array allocated by the engine. {@code manager.create(long[])} would wrap a new direct
     * buffer that only the garbage collector frees, one per epoch; here closing the array frees its memory at once.
     */
    private static NDArray nativeLongs(NDManager manager, long[] values) {
        NDArray array = manager.create(new Shape(values.length), DataType.INT64);
        ByteBuffer memory = values.length == 0 ? null : array.toByteBuffer(true);
        if (memory == null || !memory.isDirect() || memory.isReadOnly()) {
            array.close();
            return manager.create(values);
        }
        memory.asLongBuffer().put(values);
        return array;
    }

    @Override
    public boolean hasNext() {
        return next < numBatches;
    }

    @Override
    public Batch next() throws Exception {
        long from = next * batchSize;
        long to = Math.min(from + batchSize, size);
        next++;
        NDManager manager = StepManagers.newStepManager(parent);
        try {
            NDList data = new NDList();
            NDList labels = new NDList();
            switch (route) {
                case RESIDENT_SLICE:
                case ARRAY_RANGE:
                    Batch range = ((ArrayDataset) dataset).getByRange(manager, from, to);
                    data = range.getData();
                    labels = range.getLabels();
                    break;
                case ARRAY_INDICES:
                    Batch picked =
                            ((ArrayDataset) dataset)
                                    .getByIndices(manager, Arrays.copyOfRange(order, (int) from, (int) to));
                    data = picked.getData();
                    labels = picked.getLabels();
                    break;
                case RESIDENT_GATHER:
                    gather(manager, from, to, data, labels);
                    break;
                case RECORDS:
                    stackRecords(manager, from, to, data, labels);
                    break;
                default:
                    throw new AssertionError(route);
            }
            return new Batch(
                    manager,
                    data,
                    labels,
                    (int) (to - from),
                    Batchifier.STACK,
                    Batchifier.STACK,
                    to,
                    size,
                    new SampleIndices(order, from, to));
        } catch (Exception | Error e) {
            manager.close();
            throw e;
        }
    }

    private void gather(NDManager manager, long from, long to, NDList data, NDList labels) {
        try (NDArray index = rows.get(manager, new NDIndex().addSliceDim(from, to))) {
            NDIndex take = new NDIndex("{}", index);
            for (NDArray array : fullData) {
                data.add(array.get(manager, take));
            }
            for (NDArray array : fullLabels) {
                labels.add(array.get(manager, take));
            }
        }
    }

    private void stackRecords(NDManager manager, long from, long to, NDList data, NDList labels)
            throws Exception {
        int count = (int) (to - from);
        NDList[] sampleData = new NDList[count];
        NDList[] sampleLabels = new NDList[count];
        for (int i = 0; i < count; i++) {
            long position = from + i;
            long index = order != null ? order[(int) position] : position;
            Record record = dataset.get(manager, index);
            sampleData[i] = record.getData();
            sampleLabels[i] = record.getLabels() != null ? record.getLabels() : new NDList();
        }
        data.addAll(Batchifier.STACK.batchify(sampleData));
        labels.addAll(Batchifier.STACK.batchify(sampleLabels));
    }

    @Override
    public String describe(long batchIndex) {
        long from = batchIndex * batchSize;
        long to = Math.min(from + batchSize, size) - 1;
        return "batch " + batchIndex + " of epoch " + epoch + " (samples " + from + ".." + to + " of " + dataset + ")";
    }

    @Override
    public void close() {
        if (epochManager != null) {
            epochManager.close();
            epochManager = null;
            fullData = null;
            fullLabels = null;
            rows = null;
        }
    }
}
