package io.github.djllightning.util;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Replaces files atomically and durably: the content goes to a temporary file in the target's folder, is forced to
 * the disk, renamed over the target in one step, and the folder is forced too. A crash at any moment leaves either
 * the old file or the new one, never a partial file under the target's name.
 */
public final class AtomicFiles {

    /** Writes the content of a file. */
    @FunctionalInterface
    public interface Content {
        /**
         * Writes the content.
         *
         * @param out the stream (closed by the caller)
         * @throws IOException when writing fails
         */
        void writeTo(OutputStream out) throws IOException;
    }

    /** Temporary files older than this (before a write began) are a crashed writer's leftovers. */
    private static final long STALE_MILLIS = 10 * 60 * 1000L;

    private static final java.security.SecureRandom RANDOM = new java.security.SecureRandom();

    private AtomicFiles() {}

    /**
     * Writes a file atomically; the target's folder is created when missing.
     *
     * @param target the file
     * @param content what to write
     * @throws IOException when writing fails or the file system cannot rename atomically (then the target is
     *     untouched and no temporary file is left)
     */
    public static void write(Path target, Content content) throws IOException {
        Path absolute = target.toAbsolutePath();
        Path folder = absolute.getParent();
        Files.createDirectories(folder);
        String prefix = "." + absolute.getFileName() + ".";
        long started = System.currentTimeMillis();
        Path temp = newTempFile(folder, prefix);
        boolean moved = false;
        try {
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                OutputStream out = Channels.newOutputStream(channel);
                content.writeTo(out);
                out.flush();
                channel.force(true);
            }
            try {
                Files.move(temp, absolute, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("the file system of " + folder + " cannot rename files atomically; write to a"
                        + " folder on a local file system", e);
            }
            moved = true;
            syncFolder(folder);
            removeStaleTemps(folder, prefix, started - STALE_MILLIS);
        } finally {
            if (!moved) {
                Files.deleteIfExists(temp);
            }
        }
    }

    /** A new empty file with a random name; created with the process's umask (not owner-only like createTempFile). */
    private static Path newTempFile(Path folder, String prefix) throws IOException {
        for (int attempt = 0; ; attempt++) {
            Path temp = folder.resolve(prefix + Long.toUnsignedString(RANDOM.nextLong()) + ".tmp");
            try {
                Files.newByteChannel(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE).close();
                return temp;
            } catch (java.nio.file.FileAlreadyExistsException e) {
                if (attempt > 100) {
                    throw e;
                }
            }
        }
    }

    /** Deletes temporary files of the same target that a crashed writer left behind long ago. */
    private static void removeStaleTemps(Path folder, String prefix, long olderThan) {
        try (java.util.stream.Stream<Path> files = Files.list(folder)) {
            for (Path temp : (Iterable<Path>) files::iterator) {
                String name = temp.getFileName().toString();
                if (name.startsWith(prefix) && name.endsWith(".tmp")
                        && Files.getLastModifiedTime(temp).toMillis() < olderThan) {
                    Files.deleteIfExists(temp);
                }
            }
        } catch (IOException | RuntimeException e) {
            // leftovers are only untidy; the file itself is written
        }
    }

    private static void syncFolder(Path folder) {
        try (FileChannel channel = FileChannel.open(folder, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            // some platforms cannot open a folder; the rename is atomic there all the same
        }
    }
}
