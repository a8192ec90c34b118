package io.github.djllightning.data;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * A validated header of an unsigned-byte IDX file (the MNIST file format), able to read its items straight into an
 * {@link NDArray}.
 *
 * <p>The layout is a big-endian magic {@code 0x0000 08 D} (type 0x08 = unsigned byte, {@code D} dimensions), then
 * {@code D} big-endian int32 sizes, then the bytes in row-major order. Everything about the file is checked before a
 * single item is read, so a wrong or damaged file fails with a message instead of producing garbage tensors.
 */
final class IdxFile {

    /** Magic number of a 3-dimensional unsigned-byte IDX file (images). */
    static final int IMAGES_MAGIC = 0x00000803;

    /** Magic number of a 1-dimensional unsigned-byte IDX file (labels). */
    static final int LABELS_MAGIC = 0x00000801;

    private final Path path;
    private final int[] dims;
    private final long headerBytes;

    private IdxFile(Path path, int[] dims) {
        this.path = path;
        this.dims = dims;
        this.headerBytes = 4L + 4L * dims.length;
    }

    /**
     * Opens and validates the header and the length of an IDX file.
     *
     * @param path the file
     * @param expectedMagic {@link #IMAGES_MAGIC} or {@link #LABELS_MAGIC}
     * @param missingHint what to tell the user when the file does not exist
     * @return the validated header
     * @throws IOException if the file is missing, unreadable, of the wrong kind or of the wrong length
     */
    static IdxFile open(Path path, int expectedMagic, String missingHint) throws IOException {
        if (!Files.isRegularFile(path)) {
            throw new FileNotFoundException(missingHint);
        }
        int expectedRank = expectedMagic & 0xFF;
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            long fileSize = channel.size();
            long headerBytes = 4L + 4L * expectedRank;
            if (fileSize < headerBytes) {
                throw new IOException(
                        String.format(
                                "MNIST file %s is truncated: it has %d bytes, fewer than the %d-byte IDX header",
                                path, fileSize, headerBytes));
            }
            ByteBuffer header = ByteBuffer.allocate((int) headerBytes).order(ByteOrder.BIG_ENDIAN);
            readFully(channel, header, 0, path);
            header.flip();
            int magic = header.getInt();
            if (magic != expectedMagic) {
                throw new IOException(
                        String.format(
                                "MNIST file %s is not an IDX %s file: magic number is 0x%08X, expected 0x%08X",
                                path, expectedRank == 1 ? "label" : "image", magic, expectedMagic));
            }
            int[] dims = new int[expectedRank];
            for (int i = 0; i < expectedRank; i++) {
                dims[i] = header.getInt();
                if (dims[i] <= 0) {
                    throw new IOException(
                            String.format(
                                    "MNIST file %s has an invalid header: dimension %d is %d, expected a positive"
                                            + " size (dimensions %s)",
                                    path, i, dims[i], Arrays.toString(dims)));
                }
            }
            IdxFile idx = new IdxFile(path, dims);
            long expectedSize = headerBytes + (long) idx.count() * idx.itemBytes();
            if (fileSize < expectedSize) {
                throw new IOException(
                        String.format(
                                "MNIST file %s is truncated: its header announces %s, i.e. %d bytes, but the file"
                                        + " has %d bytes. Delete it and fetch it again (scripts/fetch-mnist.sh)",
                                path, Arrays.toString(dims), expectedSize, fileSize));
            }
            if (fileSize > expectedSize) {
                throw new IOException(
                        String.format(
                                "MNIST file %s has %d bytes, but its header announces %s, i.e. %d bytes: it is"
                                        + " not an uncompressed IDX file (gzipped files must be unpacked first)",
                                path, fileSize, Arrays.toString(dims), expectedSize));
            }
            return idx;
        }
    }

    /** Number of items (the first dimension). */
    int count() {
        return dims[0];
    }

    /** Bytes per item (the product of the remaining dimensions). */
    long itemBytes() {
        long bytes = 1;
        for (int i = 1; i < dims.length; i++) {
            bytes *= dims[i];
        }
        return bytes;
    }

    /** The sizes from the header. */
    int[] dims() {
        return dims.clone();
    }

    /**
     * Reads the first {@code n} items into a new {@link DataType#UINT8} array of the given shape.
     *
     * <p>The bytes go from the file straight into the tensor's own native memory (a direct view of it), so no Java
     * heap copy is made and no direct buffer is left behind for the garbage collector: closing the array frees its
     * memory at once.
     *
     * @param manager owns the new array
     * @param n how many items to read, at most {@link #count()}
     * @param shape the shape of the result; its size must be {@code n * itemBytes()}
     * @return the bytes as a UINT8 array
     * @throws IOException if reading fails
     */
    NDArray readUint8(NDManager manager, int n, Shape shape) throws IOException {
        long bytes = n * itemBytes();
        if (shape.size() != bytes || n > count()) {
            throw new IllegalArgumentException("cannot read " + n + " items of " + path + " as " + shape);
        }
        NDArray array = manager.create(shape, DataType.UINT8);
        ByteBuffer target = array.toByteBuffer(true);
        if (!target.isDirect() || target.isReadOnly() || target.capacity() != bytes) {
            // Engines that cannot expose tensor memory get one temporary direct buffer instead.
            array.close();
            ByteBuffer buffer = ByteBuffer.allocateDirect(Math.toIntExact(bytes));
            try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
                readFully(channel, buffer, headerBytes, path);
            }
            buffer.flip();
            return manager.create(buffer, shape, DataType.UINT8);
        }
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            readFully(channel, target, headerBytes, path);
            return array;
        } catch (IOException | RuntimeException e) {
            array.close();
            throw e;
        }
    }

    private static void readFully(FileChannel channel, ByteBuffer target, long position, Path path)
            throws IOException {
        long pos = position;
        while (target.hasRemaining()) {
            int read = channel.read(target, pos);
            if (read < 0) {
                throw new IOException("MNIST file " + path + " ended early while reading at byte " + pos);
            }
            pos += read;
        }
    }
}
