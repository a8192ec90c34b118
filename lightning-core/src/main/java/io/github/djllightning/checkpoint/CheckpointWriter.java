package io.github.djllightning.checkpoint;

import ai.djl.ndarray.NDArray;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import io.github.djllightning.util.AtomicFiles;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Writes a {@link Checkpoint} as one {@code .ckpt} file, atomically and durably: a temporary file in the same folder,
 * flushed to the disk, renamed over the target in one step, then the folder flushed. A crash at any moment leaves
 * either the previous file or the new one, never a partial file under the final name.
 *
 * <p>The file is a ZIP archive with {@code checkpoint.json} and one safetensors file per tensor group, stored
 * uncompressed.
 */
public final class CheckpointWriter {

    /** The name of the JSON entry. */
    public static final String JSON_ENTRY = "checkpoint.json";

    /** Thread-safe and costly to build: one for every checkpoint. */
    private static final Gson GSON = new GsonBuilder().serializeSpecialFloatingPointValues().setPrettyPrinting()
            .create();

    private CheckpointWriter() {}

    /**
     * An entry written as it is. Tensors hardly compress, and a deflater, even at level 0, passes them through a
     * 512-byte buffer one native call at a time. In a training run, where saves are rare and their code runs before the
     * JIT compiles it, that loop was most of the CPU time of a save (seed autoencoder, 1.2 MB: the checkpoint code's
     * share of the training thread fell by 30% at batch 256 without it).
     */
    private static ZipEntry stored(String name, long size, long crc) {
        ZipEntry entry = new ZipEntry(name);
        entry.setMethod(ZipEntry.STORED);
        entry.setSize(size);
        entry.setCompressedSize(size);
        entry.setCrc(crc);
        return entry;
    }

    /** Counts and checksums what is written to it, and keeps nothing. */
    private static final class CountingCrc extends OutputStream {
        final CRC32 crc = new CRC32();
        long count;

        @Override
        public void write(int b) {
            crc.update(b);
            count++;
        }

        @Override
        public void write(byte[] bytes, int offset, int length) {
            crc.update(bytes, offset, length);
            count += length;
        }
    }

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
                byte[] json = GSON.toJson(checkpoint.entries()).getBytes(StandardCharsets.UTF_8);
                CRC32 jsonCrc = new CRC32();
                jsonCrc.update(json);
                zip.putNextEntry(stored(JSON_ENTRY, json.length, jsonCrc.getValue()));
                zip.write(json);
                zip.closeEntry();
                for (Map.Entry<String, Map<String, NDArray>> file : checkpoint.tensorFiles().entrySet()) {
                    // a stored entry states its size and CRC before its bytes: a first pass counts and checks them
                    // (the zip stream checks the second pass against both, so a change in between fails the write)
                    CountingCrc sums = new CountingCrc();
                    SafetensorsWriter.write(file.getValue(), sums);
                    zip.putNextEntry(stored(file.getKey() + ".safetensors", sums.count, sums.crc.getValue()));
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
