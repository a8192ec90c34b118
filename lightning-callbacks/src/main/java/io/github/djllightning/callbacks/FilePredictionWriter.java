package io.github.djllightning.callbacks;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.training.dataset.Batch;
import com.google.gson.Gson;
import io.github.djllightning.checkpoint.SafetensorsWriter;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.trainer.MisconfigurationException;
import io.github.djllightning.trainer.Trainer;
import io.github.djllightning.util.AtomicFiles;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes predictions to files that Python and other tools read directly: tensors in <a
 * href="https://huggingface.co/docs/safetensors">safetensors</a> files, batch indices in JSON. The ready-made version
 * of the writer in Lightning's distributed-inference example.
 *
 * <pre>{@code
 * Trainer trainer = Trainer.builder().callbacks(new FilePredictionWriter(Path.of("pred_path"), "epoch")).build();
 * trainer.predict(module, List.of(loader), false);
 * }</pre>
 *
 * <p>Files in {@code outputDir} ({@code 0} is the process's rank; the Trainer runs in one process, so it is always 0):
 *
 * <ul>
 *   <li>{@code writeInterval "epoch"}: {@code predictions_0.safetensors} with every prediction of the run, and {@code
 *       batch_indices_0.json}, per loader, per batch, the dataset indices of the batch's samples ({@code [[[3, 0, 7,
 *       1], [5, 2, ...]]]}; {@code null} for a batch that does not tell them).
 *   <li>{@code writeInterval "batch"} (the default): one {@code predictions_0_dataloader_D_batch_B.safetensors} per
 *       batch, its sample indices in the file's metadata under {@code batch_indices} (a JSON list).
 *   <li>{@code "batch_and_epoch"}: both.
 * </ul>
 *
 * <p>A tensor is named {@code D/B} after its loader and batch, for example {@code 0/3}; a prediction made of several
 * arrays adds the position in an {@code NDList} or list, or the key in a map: {@code 0/3/1}, {@code 0/3/logits}. Row
 * {@code i} of tensor {@code 0/3} is the prediction for sample {@code batch_indices[0][3][i]}. In Python:
 *
 * <pre>
 * from safetensors.torch import load_file
 * predictions = load_file("pred_path/predictions_0.safetensors")   # {"0/0": tensor, "0/1": tensor, ...}
 * </pre>
 *
 * <p>Each file is written atomically (a reader never sees a partial file) and replaces a file of the same name; files
 * of earlier runs with other names stay. Predictions must be arrays, alone or in {@code NDList}s, lists and maps
 * (null predictions are skipped); for other values, extend {@link BasePredictionWriter}.
 */
public class FilePredictionWriter extends BasePredictionWriter {

    /** The rank in file names: the Trainer runs in one process. */
    private static final int RANK = 0;

    private static final Gson GSON = new Gson();

    private final Path outputDir;

    /**
     * A writer that writes one file per batch (Lightning's default interval).
     *
     * @param outputDir the folder for the files; created when missing
     */
    public FilePredictionWriter(Path outputDir) {
        this(outputDir, "batch");
    }

    /**
     * A writer.
     *
     * @param outputDir the folder for the files; created when missing
     * @param writeInterval {@code "batch"}, {@code "epoch"} or {@code "batch_and_epoch"}
     * @throws MisconfigurationException for a null folder or another interval
     */
    public FilePredictionWriter(Path outputDir, String writeInterval) {
        super(writeInterval);
        if (outputDir == null) {
            throw new MisconfigurationException("FilePredictionWriter needs a folder for the prediction files, got"
                    + " null; pass e.g. Path.of(\"predictions\").");
        }
        this.outputDir = outputDir;
    }

    /** The folder the files go to. */
    public Path outputDir() {
        return outputDir;
    }

    /** The file with all predictions of the epoch ({@code writeInterval} epoch). */
    public Path predictionsFile() {
        return outputDir.resolve("predictions_" + RANK + ".safetensors");
    }

    /** The file with the batch indices of the epoch ({@code writeInterval} epoch). */
    public Path batchIndicesFile() {
        return outputDir.resolve("batch_indices_" + RANK + ".json");
    }

    /**
     * The file of one batch's prediction ({@code writeInterval} batch).
     *
     * @param dataloaderIdx the loader's index
     * @param batchIdx the batch's index in its loader
     * @return the file
     */
    public Path batchFile(int dataloaderIdx, int batchIdx) {
        return outputDir.resolve(
                "predictions_" + RANK + "_dataloader_" + dataloaderIdx + "_batch_" + batchIdx + ".safetensors");
    }

    @Override
    protected void writeOnBatchEnd(
            Trainer trainer,
            LightningModule module,
            Object prediction,
            List<Long> batchIndices,
            Batch batch,
            int batchIdx,
            int dataloaderIdx) {
        Map<String, NDArray> tensors = new LinkedHashMap<>();
        flatten(dataloaderIdx + "/" + batchIdx, prediction, tensors);
        Map<String, String> metadata =
                batchIndices == null ? Map.of() : Map.of("batch_indices", GSON.toJson(batchIndices));
        Path file = batchFile(dataloaderIdx, batchIdx);
        write(file, out -> SafetensorsWriter.write(tensors, metadata, out));
    }

    @Override
    protected void writeOnEpochEnd(
            Trainer trainer,
            LightningModule module,
            List<List<Object>> predictions,
            List<List<List<Long>>> batchIndices) {
        Map<String, NDArray> tensors = new LinkedHashMap<>();
        for (int d = 0; d < predictions.size(); d++) {
            List<Object> perLoader = predictions.get(d);
            for (int b = 0; b < perLoader.size(); b++) {
                flatten(d + "/" + b, perLoader.get(b), tensors);
            }
        }
        write(predictionsFile(), out -> SafetensorsWriter.write(tensors, out));
        write(batchIndicesFile(), out -> {
            Writer writer = new OutputStreamWriter(out, StandardCharsets.UTF_8);
            GSON.toJson(batchIndices, writer);
            writer.flush();
        });
    }

    private static void write(Path file, AtomicFiles.Content content) {
        try {
            AtomicFiles.write(file, content);
        } catch (IOException e) {
            throw new UncheckedIOException("FilePredictionWriter could not write " + file + ": " + e.getMessage(), e);
        }
    }

    /** Adds every array of a prediction under its name. */
    private static void flatten(String name, Object value, Map<String, NDArray> out) {
        if (value == null) {
            return;
        }
        if (value instanceof NDArray) {
            if (out.put(name, (NDArray) value) != null) {
                throw new MisconfigurationException("FilePredictionWriter found two arrays named '" + name + "' in a"
                        + " prediction; use map keys without '/'.");
            }
        } else if (value instanceof NDList) {
            NDList list = (NDList) value;
            for (int i = 0; i < list.size(); i++) {
                flatten(name + "/" + i, list.get(i), out);
            }
        } else if (value instanceof Map) {
            for (Map.Entry<?, ?> entry : ((Map<?, ?>) value).entrySet()) {
                flatten(name + "/" + entry.getKey(), entry.getValue(), out);
            }
        } else if (value instanceof Collection) {
            int i = 0;
            for (Object element : (Collection<?>) value) {
                flatten(name + "/" + i++, element, out);
            }
        } else {
            throw new MisconfigurationException("FilePredictionWriter writes arrays (alone, or in NDLists, lists and"
                    + " maps), but the prediction '" + name + "' holds a " + value.getClass().getName() + " (" + value
                    + "); return arrays from predictStep, or extend BasePredictionWriter to write other values.");
        }
    }
}
