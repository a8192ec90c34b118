package io.github.djllightning.checkpoint;

import com.google.gson.GsonBuilder;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
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

    private CheckpointWriter() {}

    /**
     * Writes the checkpoint.
     *
     * @param checkpoint the content
     * @param target the final file
     * @throws UncheckedIOException naming the file when writing fails (the target is then untouched)
     */
    public static void write(Checkpoint checkpoint, Path target) {
        Path absolute = target.toAbsolutePath();
        Path dir = absolute.getParent();
        Path temp = null;
        try {
            Files.createDirectories(dir);
            temp = Files.createTempFile(dir, "." + absolute.getFileName() + ".", ".tmp");
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                OutputStream raw = Channels.newOutputStream(channel);
                ZipOutputStream zip = new ZipOutputStream(new BufferedOutputStream(raw, 1 << 16));
                // tensors hardly compress, and deflating them costs more time than the disk write
                zip.setLevel(Deflater.NO_COMPRESSION);
                zip.putNextEntry(new ZipEntry(JSON_ENTRY));
                zip.write(new GsonBuilder().serializeSpecialFloatingPointValues().setPrettyPrinting().create()
                        .toJson(checkpoint.entries()).getBytes(StandardCharsets.UTF_8));
                zip.closeEntry();
                for (Map.Entry<String, Map<String, ai.djl.ndarray.NDArray>> file :
                        checkpoint.tensorFiles().entrySet()) {
                    zip.putNextEntry(new ZipEntry(file.getKey() + ".safetensors"));
                    SafetensorsWriter.write(file.getValue(), zip);
                    zip.closeEntry();
                }
                zip.finish();
                zip.flush();
                channel.force(true);
            }
            move(temp, absolute);
            temp = null;
            syncDirectory(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("Could not write checkpoint " + absolute + ": " + e.getMessage(), e);
        } finally {
            if (temp != null) {
                try {
                    Files.deleteIfExists(temp);
                } catch (IOException ignored) {
                    // the original failure is what matters
                }
            }
        }
    }

    private static void move(Path source, Path target) throws IOException {
        try {
            Files.move(source, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("the file system of " + target.getParent() + " cannot rename atomically", e);
        }
    }

    private static void syncDirectory(Path dir) {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            // some platforms cannot open folders; the rename itself is still atomic there
        }
    }
}
