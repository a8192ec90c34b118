package io.github.djllightning.checkpoint;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import io.github.djllightning.util.NativeTensors;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes tensors in the safetensors format: an 8-byte little-endian header length, a JSON header (dtype, shape and
 * byte range per tensor, keys in the given order, padded to 8 bytes), then the raw little-endian bytes.
 */
public final class SafetensorsWriter {

    /** Thread-safe and costly to build: one for every header. */
    private static final Gson GSON = new GsonBuilder().disableHtmlEscaping().create();

    private SafetensorsWriter() {}

    /**
     * Writes the tensors.
     *
     * @param tensors name to tensor, in the order to write
     * @param out the stream (not closed)
     * @throws IOException when writing fails
     */
    public static void write(Map<String, NDArray> tensors, OutputStream out) throws IOException {
        write(tensors, Map.of(), out);
    }

    /**
     * Writes the tensors with a {@code __metadata__} object (string to string) first in the header. The header is
     * computed from the shapes alone, then the tensors are copied out one at a time, so at most one tensor's bytes
     * are held on the heap.
     *
     * @param tensors name to tensor, in the order to write
     * @param metadata the metadata, empty for none
     * @param out the stream (not closed)
     * @throws IOException when writing fails
     */
    public static void write(Map<String, NDArray> tensors, Map<String, String> metadata, OutputStream out)
            throws IOException {
        Map<String, Object> header = new LinkedHashMap<>();
        if (!metadata.isEmpty()) {
            header.put("__metadata__", new LinkedHashMap<>(metadata));
        }
        long offset = 0;
        for (Map.Entry<String, NDArray> entry : tensors.entrySet()) {
            NDArray array = entry.getValue();
            long length = array.getShape().size() * array.getDataType().getNumOfBytes();
            Map<String, Object> info = new LinkedHashMap<>();
            info.put("dtype", dtype(entry.getKey(), array.getDataType()));
            info.put("shape", array.getShape().getShape());
            info.put("data_offsets", new long[] {offset, offset + length});
            header.put(entry.getKey(), info);
            offset += length;
        }
        byte[] json = GSON.toJson(header)
                .getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        ByteBuffer length = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded);
        out.write(length.array());
        out.write(json);
        for (int i = json.length; i < padded; i++) {
            out.write(' ');
        }
        byte[] chunk = null;
        for (NDArray array : tensors.values()) {
            ByteBuffer view = nativeView(array);
            if (view == null) {
                out.write(littleEndianBytes(array));
                continue;
            }
            if (chunk == null) {
                chunk = new byte[CHUNK];
            }
            while (view.hasRemaining()) {
                int n = Math.min(chunk.length, view.remaining());
                view.get(chunk, 0, n);
                out.write(chunk, 0, n);
            }
        }
    }

    /** The piece of a tensor's memory copied to the stream at a time. */
    private static final int CHUNK = 1 << 16;

    /**
     * The tensor's own memory, read in place: for a dense, contiguous CPU tensor on a little-endian machine, which
     * saves the engine's copy of every tensor into a new Java array; null for any other tensor.
     */
    private static ByteBuffer nativeView(NDArray array) {
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN || !array.getDevice().equals(Device.cpu())
                || !NativeTensors.isContiguous(array)) {
            return null;
        }
        return array.toByteBuffer(true);
    }

    private static byte[] littleEndianBytes(NDArray array) {
        ByteBuffer buffer = array.toByteBuffer();
        if (buffer.order() == ByteOrder.LITTLE_ENDIAN || array.getDataType().getNumOfBytes() == 1) {
            if (buffer.hasArray() && buffer.arrayOffset() == 0 && buffer.position() == 0
                    && buffer.remaining() == buffer.array().length) {
                return buffer.array(); // the engine's own copy of the bytes: no second copy
            }
            byte[] copy = new byte[buffer.remaining()];
            buffer.duplicate().get(copy);
            return copy;
        }
        int width = array.getDataType().getNumOfBytes();
        byte[] raw = new byte[buffer.remaining()];
        buffer.duplicate().get(raw);
        byte[] swapped = new byte[raw.length];
        for (int i = 0; i < raw.length; i += width) {
            for (int b = 0; b < width; b++) {
                swapped[i + b] = raw[i + width - 1 - b];
            }
        }
        return swapped;
    }

    static String dtype(String name, DataType type) {
        switch (type) {
            case FLOAT64:
                return "F64";
            case FLOAT32:
                return "F32";
            case FLOAT16:
                return "F16";
            case INT64:
                return "I64";
            case INT32:
                return "I32";
            case INT8:
                return "I8";
            case UINT8:
                return "U8";
            case BOOLEAN:
                return "BOOL";
            default:
                throw new IllegalArgumentException(
                        "tensor '" + name + "' has data type " + type + ", which checkpoints cannot store");
        }
    }
}
