package io.github.djllightning.checkpoint;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import com.google.gson.Gson;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes tensors in the safetensors format: an 8-byte little-endian header length, a JSON header (dtype, shape and
 * byte range per tensor, keys in the given order, padded to 8 bytes), then the raw little-endian bytes.
 */
public final class SafetensorsWriter {

    private SafetensorsWriter() {}

    /**
     * Writes the tensors.
     *
     * @param tensors name to tensor, in the order to write
     * @param out the stream (not closed)
     * @throws IOException when writing fails
     */
    public static void write(Map<String, NDArray> tensors, OutputStream out) throws IOException {
        Map<String, Object> header = new LinkedHashMap<>();
        List<byte[]> payloads = new ArrayList<>();
        long offset = 0;
        for (Map.Entry<String, NDArray> entry : tensors.entrySet()) {
            NDArray array = entry.getValue();
            byte[] bytes = littleEndianBytes(array);
            Map<String, Object> info = new LinkedHashMap<>();
            info.put("dtype", dtype(entry.getKey(), array.getDataType()));
            info.put("shape", array.getShape().getShape());
            info.put("data_offsets", new long[] {offset, offset + bytes.length});
            header.put(entry.getKey(), info);
            payloads.add(bytes);
            offset += bytes.length;
        }
        byte[] json = new Gson().toJson(header).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        ByteBuffer length = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded);
        out.write(length.array());
        out.write(json);
        for (int i = json.length; i < padded; i++) {
            out.write(' ');
        }
        for (byte[] payload : payloads) {
            out.write(payload);
        }
    }

    private static byte[] littleEndianBytes(NDArray array) {
        ByteBuffer buffer = array.toByteBuffer();
        ByteBuffer copy = ByteBuffer.allocate(buffer.remaining());
        if (buffer.order() == ByteOrder.LITTLE_ENDIAN || array.getDataType().getNumOfBytes() == 1) {
            copy.put(buffer.duplicate());
            return copy.array();
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
