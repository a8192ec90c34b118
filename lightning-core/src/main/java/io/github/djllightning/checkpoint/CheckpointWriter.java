package io.github.djllightning.checkpoint;

import ai.djl.ndarray.NDArray;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import io.github.djllightning.util.AtomicFiles;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.zip.Deflater;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Writes a {@link Checkpoint} as one {@code .ckpt} file, atomically and durably: a temporary file in the same folder,
 * flushed to the disk, renamed over the target in one step, then the folder flushed. A crash at any moment leaves
 * either the previous file or the new one, never a partial file under the final name.
 *
 * <p>The file is a ZIP archive with {@code checkpoint.json} and one safetensors file per tensor group.
 */
public final class CheckpointWriter {

    /** The name of the JSON entry. */
    public static final String JSON_ENTRY = "checkpoint.json";

    /** Thread-safe and costly to build: one for every checkpoint. */
    private static final Gson GSON = new GsonBuilder().serializeSpecialFloatingPointValues().setPrettyPrinting()
            .create();

    private CheckpointWriter() {}

    /**
     * Writes the checkpoint.
     *
     * @param checkpoint the content
     * @param target the final file
     * @throws UncheckedIOException naming the file when writing fails (the target is then untouched)
     */
    public static void write(Checkpoint checkpoint, Path target) {
        try {
            AtomicFiles.write(target, out -> {
                ZipOutputStream zip = new ZipOutputStream(new BufferedOutputStream(out, 1 << 16));
                // tensors hardly compress, and deflating them costs more time than the disk write
                zip.setLevel(Deflater.NO_COMPRESSION);
                zip.putNextEntry(new ZipEntry(JSON_ENTRY));
                zip.write(GSON.toJson(checkpoint.entries()).getBytes(StandardCharsets.UTF_8));
                zip.closeEntry();
                for (Map.Entry<String, Map<String, NDArray>> file : checkpoint.tensorFiles().entrySet()) {
                    zip.putNextEntry(new ZipEntry(file.getKey() + ".safetensors"));
                    SafetensorsWriter.write(file.getValue(), zip);
                    zip.closeEntry();
                }
                zip.finish();
                zip.flush();
            });
        } catch (IOException e) {
            throw new UncheckedIOException(
                    "Could not write checkpoint " + target.toAbsolutePath() + ": " + e.getMessage(), e);
        }
    }
}
