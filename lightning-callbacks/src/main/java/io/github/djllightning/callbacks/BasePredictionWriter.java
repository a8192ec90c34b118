package io.github.djllightning.callbacks;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.training.dataset.Batch;
import io.github.djllightning.callback.Callback;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.trainer.MisconfigurationException;
import io.github.djllightning.trainer.Trainer;
import io.github.djllightning.trainer.TrainerFn;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes predictions somewhere while {@code Trainer.predict} runs, so a large prediction needs no memory for the
 * results: call {@code trainer.predict(module, loaders, false)}. Lightning's {@code BasePredictionWriter}.
 *
 * <p>A subclass overrides {@link #writeOnBatchEnd} (with {@code writeInterval} {@code "batch"}, the default),
 * {@link #writeOnEpochEnd} ({@code "epoch"}) or both ({@code "batch_and_epoch"}); the constructor fails when the method
 * its interval needs is not overridden.
 *
 * <pre>{@code
 * class NpyWriter extends BasePredictionWriter {
 *     NpyWriter() { super("batch"); }
 *     @Override
 *     protected void writeOnBatchEnd(Trainer trainer, LightningModule module, Object prediction,
 *             List<Long> batchIndices, Batch batch, int batchIdx, int dataloaderIdx) {
 *         // write ((NDArray) prediction) for the samples batchIndices
 *     }
 * }
 * trainer.predict(module, List.of(loader), false);
 * }</pre>
 *
 * <p><b>Batch indices</b> are the dataset indices of the samples of a batch, in the loader's order (with {@code
 * shuffle}, a slice of {@code loader.sampleOrder(0)}): prediction row {@code i} belongs to sample {@code
 * batchIndices.get(i)}. They come from DJL's {@link Batch#getIndices()}; for a loader over ready-made batches that do
 * not carry indices they are null.
 *
 * <p><b>Memory.</b> A batch's prediction lives only until its batch is done; {@code writeOnBatchEnd} must not keep
 * it. For {@code writeOnEpochEnd} the writer keeps a copy of every prediction on the CPU until the epoch's end (as
 * Lightning does), so memory grows with the predictions; write per batch for data that does not fit.
 */
public abstract class BasePredictionWriter implements Callback {

    /** When predictions are written. */
    public enum WriteInterval {
        /** After every batch, through {@link #writeOnBatchEnd}. */
        BATCH("batch"),
        /** Once at the end of the predict epoch, through {@link #writeOnEpochEnd}. */
        EPOCH("epoch"),
        /** Both. */
        BATCH_AND_EPOCH("batch_and_epoch");

        private final String value;

        WriteInterval(String value) {
            this.value = value;
        }

        /**
         * Parses Lightning's name of an interval.
         *
         * @param value {@code "batch"}, {@code "epoch"} or {@code "batch_and_epoch"}
         * @return the interval
         * @throws MisconfigurationException for any other value
         */
        public static WriteInterval of(String value) {
            for (WriteInterval interval : values()) {
                if (interval.value.equals(value)) {
                    return interval;
                }
            }
            throw new MisconfigurationException("writeInterval must be one of 'batch', 'epoch', 'batch_and_epoch',"
                    + " got " + (value == null ? "null" : "'" + value + "'"));
        }

        /** Whether each batch is written. */
        public boolean onBatch() {
            return this != EPOCH;
        }

        /** Whether the whole epoch is written at its end. */
        public boolean onEpoch() {
            return this != BATCH;
        }

        /** Lightning's name of the interval, e.g. {@code batch_and_epoch}. */
        @Override
        public String toString() {
            return value;
        }
    }

    private final WriteInterval interval;
    private NDManager epochMemory;
    private final List<List<Object>> epochPredictions = new ArrayList<>();
    private final List<List<List<Long>>> epochBatchIndices = new ArrayList<>();

    /**
     * Creates a writer.
     *
     * @param writeInterval {@code "batch"}, {@code "epoch"} or {@code "batch_and_epoch"}
     * @throws MisconfigurationException for another interval, or when the subclass does not override the write
     *     method the interval needs
     */
    protected BasePredictionWriter(String writeInterval) {
        this(WriteInterval.of(writeInterval));
    }

    /**
     * Creates a writer.
     *
     * @param writeInterval when to write
     * @throws MisconfigurationException when the subclass does not override the write method the interval needs
     */
    protected BasePredictionWriter(WriteInterval writeInterval) {
        if (writeInterval == null) {
            throw new MisconfigurationException("writeInterval must be one of 'batch', 'epoch', 'batch_and_epoch',"
                    + " got null");
        }
        this.interval = writeInterval;
        String name = getClass().getName();
        if (interval.onBatch() && !overrides("writeOnBatchEnd", Trainer.class, LightningModule.class, Object.class,
                List.class, Batch.class, int.class, int.class)) {
            throw new MisconfigurationException(name + " writes with writeInterval '" + interval + "' but does not"
                    + " override writeOnBatchEnd; override it, or use writeInterval 'epoch' with writeOnEpochEnd.");
        }
        if (interval.onEpoch() && !overrides("writeOnEpochEnd", Trainer.class, LightningModule.class, List.class,
                List.class)) {
            throw new MisconfigurationException(name + " writes with writeInterval '" + interval + "' but does not"
                    + " override writeOnEpochEnd; override it, or use writeInterval 'batch' with writeOnBatchEnd.");
        }
    }

    private boolean overrides(String method, Class<?>... parameterTypes) {
        for (Class<?> type = getClass(); type != BasePredictionWriter.class; type = type.getSuperclass()) {
            try {
                type.getDeclaredMethod(method, parameterTypes);
                return true;
            } catch (NoSuchMethodException e) {
                // look further up
            }
        }
        return false;
    }

    /** When this writer writes. */
    public WriteInterval writeInterval() {
        return interval;
    }

    /**
     * Writes the prediction of one batch. Called after {@code predictStep}, before the batch's memory is freed.
     *
     * @param trainer the Trainer
     * @param module the module
     * @param prediction what {@code predictStep} returned
     * @param batchIndices the dataset indices of the batch's samples, or null when the batch does not tell them
     * @param batch the batch
     * @param batchIdx the batch's index in its loader
     * @param dataloaderIdx the loader's index
     */
    protected void writeOnBatchEnd(
            Trainer trainer,
            LightningModule module,
            Object prediction,
            List<Long> batchIndices,
            Batch batch,
            int batchIdx,
            int dataloaderIdx) {
        throw new UnsupportedOperationException(getClass().getName() + " does not override writeOnBatchEnd");
    }

    /**
     * Writes the predictions of the whole predict epoch. The arrays are copies on the CPU, freed when this method
     * returns; copy what must outlive it.
     *
     * @param trainer the Trainer
     * @param module the module
     * @param predictions per loader, the prediction of each batch
     * @param batchIndices per loader, per batch, the dataset indices of the batch's samples (null for a batch that
     *     does not tell them)
     */
    protected void writeOnEpochEnd(
            Trainer trainer,
            LightningModule module,
            List<List<Object>> predictions,
            List<List<List<Long>>> batchIndices) {
        throw new UnsupportedOperationException(getClass().getName() + " does not override writeOnEpochEnd");
    }

    @Override
    public void onPredictEpochStart(Trainer trainer, LightningModule module) {
        releaseEpoch();
        if (interval.onEpoch()) {
            epochMemory = module.parameterManager().newSubManager(Device.cpu());
            epochMemory.setName("prediction-writer");
        }
    }

    @Override
    public void onPredictBatchEnd(
            Trainer trainer, LightningModule module, Object outputs, Batch batch, int batchIdx, int dataloaderIdx) {
        List<Long> indices = batchIndices(batch);
        if (interval.onBatch()) {
            writeOnBatchEnd(trainer, module, outputs, indices, batch, batchIdx, dataloaderIdx);
        }
        if (interval.onEpoch()) {
            while (epochPredictions.size() <= dataloaderIdx) {
                epochPredictions.add(new ArrayList<>());
                epochBatchIndices.add(new ArrayList<>());
            }
            epochPredictions.get(dataloaderIdx).add(copy(outputs, epochMemory));
            epochBatchIndices.get(dataloaderIdx).add(indices);
        }
    }

    @Override
    public void onPredictEpochEnd(Trainer trainer, LightningModule module) {
        if (!interval.onEpoch()) {
            return;
        }
        try {
            List<List<Object>> predictions = new ArrayList<>();
            for (List<Object> perLoader : epochPredictions) {
                predictions.add(Collections.unmodifiableList(perLoader));
            }
            List<List<List<Long>>> indices = new ArrayList<>();
            for (List<List<Long>> perLoader : epochBatchIndices) {
                indices.add(Collections.unmodifiableList(perLoader));
            }
            writeOnEpochEnd(trainer, module, Collections.unmodifiableList(predictions),
                    Collections.unmodifiableList(indices));
        } finally {
            releaseEpoch();
        }
    }

    @Override
    public void teardown(Trainer trainer, LightningModule module, TrainerFn stage) {
        releaseEpoch();
    }

    @Override
    public void onException(Trainer trainer, LightningModule module, Throwable exception) {
        releaseEpoch();
    }

    private void releaseEpoch() {
        epochPredictions.clear();
        epochBatchIndices.clear();
        if (epochMemory != null) {
            epochMemory.close();
            epochMemory = null;
        }
    }

    /** The batch's sample indices as longs, or null when it has none that are numbers. */
    private static List<Long> batchIndices(Batch batch) {
        List<?> indices = batch.getIndices();
        if (indices == null) {
            return null;
        }
        Long[] values = new Long[indices.size()];
        for (int i = 0; i < values.length; i++) {
            Object index = indices.get(i);
            if (!(index instanceof Number)) {
                return null;
            }
            values[i] = ((Number) index).longValue();
        }
        return List.of(values);
    }

    /** Copies every array of a prediction to the CPU, into memory that outlives the batch. */
    private static Object copy(Object value, NDManager memory) {
        if (value instanceof NDArray) {
            NDArray array = (NDArray) value;
            NDArray onCpu = array.toDevice(Device.cpu(), false);
            // on the CPU already: copy, since the batch's memory is freed after the step
            NDArray copied = onCpu == array ? array.duplicate() : onCpu;
            copied.attach(memory);
            return copied;
        }
        if (value instanceof NDList) {
            NDList copied = new NDList();
            for (NDArray array : (NDList) value) {
                copied.add((NDArray) copy(array, memory));
            }
            return copied;
        }
        if (value instanceof Map) {
            Map<Object, Object> copied = new LinkedHashMap<>();
            for (Map.Entry<?, ?> entry : ((Map<?, ?>) value).entrySet()) {
                copied.put(entry.getKey(), copy(entry.getValue(), memory));
            }
            return Collections.unmodifiableMap(copied);
        }
        if (value instanceof Collection) {
            List<Object> copied = new ArrayList<>();
            for (Object element : (Collection<?>) value) {
                copied.add(copy(element, memory));
            }
            return Collections.unmodifiableList(copied);
        }
        return value;
    }
}
