package io.github.djllightning.checkpoint;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the safetensors format and checks every part of it before a tensor is created: the header length and JSON,
 * each tensor's dtype (only the types this library can hold safely), shape and byte range (inside the payload, of the
 * size the shape needs), and that the tensors tile the data section with no overlap, gap or trailing bytes. A file
 * that fails a check gives a {@link CheckpointException} naming the file, the entry and the tensor.
 */
public final class SafetensorsReader {

    /** The largest JSON header accepted, as in the reference implementation (100 MB). */
    static final long MAX_HEADER = 100L * 1024 * 1024;

    /** One tensor as the header describes it. */
    public static final class TensorInfo {
        private final String name;
        private final DataType dataType;
        private final Shape shape;
        private final long begin;
        private final long end;

        TensorInfo(String name, DataType dataType, Shape shape, long begin, long end) {
            this.name = name;
            this.dataType = dataType;
            this.shape = shape;
            this.begin = begin;
            this.end = end;
        }

        /** The tensor's name. */
        public String name() {
            return name;
        }

        /** The tensor's data type. */
        public DataType dataType() {
            return dataType;
        }

        /** The tensor's shape. */
        public Shape shape() {
            return shape;
        }
    }

    /** A checked safetensors file: its header and its bytes; tensors are created on request. */
    public static final class Contents {
        private final Map<String, TensorInfo> tensors;
        private final Map<String, String> metadata;
        private final ByteBuffer payload;

        Contents(Map<String, TensorInfo> tensors, Map<String, String> metadata, ByteBuffer payload) {
            this.tensors = tensors;
            this.metadata = metadata;
            this.payload = payload;
        }

        /** The tensors' descriptions, in the file's order. */
        public Map<String, TensorInfo> tensors() {
            return tensors;
        }

        /** The {@code __metadata__} strings, or an empty map. */
        public Map<String, String> metadata() {
            return metadata;
        }

        /**
         * Creates one tensor.
         *
         * @param name the tensor's name
         * @param manager the manager that owns the new array
         * @return the array, in native byte order
         * @throws IllegalArgumentException if there is no such tensor
         */
        public NDArray create(String name, NDManager manager) {
            TensorInfo info = tensors.get(name);
            if (info == null) {
                throw new IllegalArgumentException("no tensor named '" + name + "'; the file has " + tensors.keySet());
            }
            int length = (int) (info.end - info.begin);
            ByteBuffer data = ByteBuffer.allocateDirect(length).order(ByteOrder.nativeOrder());
            ByteBuffer slice = payload.duplicate().order(ByteOrder.LITTLE_ENDIAN);
            slice.position((int) info.begin).limit((int) info.end);
            int width = info.dataType.getNumOfBytes();
            if (ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN || width == 1) {
                data.put(slice);
            } else {
                byte[] element = new byte[width];
                while (slice.hasRemaining()) {
                    slice.get(element);
                    for (int b = width - 1; b >= 0; b--) {
                        data.put(element[b]);
                    }
                }
            }
            data.rewind();
            return manager.create(data, info.shape, info.dataType);
        }

        /**
         * Creates every tensor.
         *
         * @param manager the manager that owns the new arrays
         * @return name to array, in the file's order
         */
        public Map<String, NDArray> createAll(NDManager manager) {
            Map<String, NDArray> out = new LinkedHashMap<>();
            for (String name : tensors.keySet()) {
                out.put(name, create(name, manager));
            }
            return out;
        }
    }

    private SafetensorsReader() {}

    /**
     * Reads and checks a {@code .safetensors} file.
     *
     * @param file the file
     * @return its checked contents
     * @throws CheckpointException if the file cannot be read or fails a check
     */
    public static Contents read(Path file) {
        long size;
        try {
            size = Files.size(file);
        } catch (IOException e) {
            throw new CheckpointException(file, null, "cannot read the file: " + e, e);
        }
        if (size > Integer.MAX_VALUE - 8) {
            throw new CheckpointException(file, null, "the file has " + size + " bytes; files over 2 GB are not"
                    + " supported: split the weights into several files");
        }
        try {
            return parse(Files.readAllBytes(file), file, file.getFileName().toString());
        } catch (IOException e) {
            throw new CheckpointException(file, null, "cannot read the file: " + e, e);
        }
    }

    /**
     * Checks safetensors bytes.
     *
     * @param bytes the whole file
     * @param file the file they came from, for messages (may be null)
     * @param entry the name of the file or archive entry, for messages
     * @return the checked contents
     * @throws CheckpointException if any check fails
     */
    public static Contents parse(byte[] bytes, Path file, String entry) {
        if (bytes.length < 8) {
            throw new CheckpointException(file, entry, "truncated: " + bytes.length + " bytes, less than the 8-byte"
                    + " header length");
        }
        long headerLength = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        if (headerLength < 2 || headerLength > MAX_HEADER || headerLength > bytes.length - 8L) {
            throw new CheckpointException(file, entry, "header length " + headerLength + " is out of bounds (the"
                    + " file has " + bytes.length + " bytes); the file is truncated or not safetensors");
        }
        String json = new String(bytes, 8, (int) headerLength, StandardCharsets.UTF_8);
        JsonObject header;
        try {
            JsonElement parsed = JsonParser.parseString(json);
            if (!parsed.isJsonObject()) {
                throw new CheckpointException(file, entry, "the header is not a JSON object");
            }
            header = parsed.getAsJsonObject();
        } catch (JsonParseException e) {
            throw new CheckpointException(file, entry, "the header is not valid JSON: " + e.getMessage(), e);
        }
        long payloadLength = bytes.length - 8L - headerLength;
        Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Map.Entry<String, JsonElement> item : header.entrySet()) {
            String name = item.getKey();
            String where = entry + ": " + name;
            if ("__metadata__".equals(name)) {
                readMetadata(item.getValue(), file, where, metadata);
                continue;
            }
            tensors.put(name, tensorInfo(name, item.getValue(), payloadLength, file, where));
        }
        checkLayout(tensors, payloadLength, file, entry);
        ByteBuffer payload = ByteBuffer.wrap(bytes, (int) (8 + headerLength), (int) payloadLength).slice();
        return new Contents(tensors, metadata, payload);
    }

    private static void readMetadata(JsonElement value, Path file, String where, Map<String, String> out) {
        if (!value.isJsonObject()) {
            throw new CheckpointException(file, where, "__metadata__ must be an object of strings");
        }
        for (Map.Entry<String, JsonElement> e : value.getAsJsonObject().entrySet()) {
            if (!e.getValue().isJsonPrimitive() || !e.getValue().getAsJsonPrimitive().isString()) {
                throw new CheckpointException(file, where + "." + e.getKey(), "metadata values must be strings");
            }
            out.put(e.getKey(), e.getValue().getAsString());
        }
    }

    private static TensorInfo tensorInfo(String name, JsonElement value, long payloadLength, Path file, String where) {
        if (!value.isJsonObject()) {
            throw new CheckpointException(file, where, "a tensor entry must be an object with dtype, shape and"
                    + " data_offsets");
        }
        JsonObject object = value.getAsJsonObject();
        DataType type = dataType(string(object, "dtype", file, where), file, where);
        long[] dims = longs(object, "shape", file, where);
        long elements = 1;
        for (long dim : dims) {
            if (dim < 0) {
                throw new CheckpointException(file, where, "shape " + java.util.Arrays.toString(dims)
                        + " has a negative size");
            }
            try {
                elements = Math.multiplyExact(elements, dim);
            } catch (ArithmeticException e) {
                throw new CheckpointException(file, where, "shape " + java.util.Arrays.toString(dims) + " is too large");
            }
        }
        long[] offsets = longs(object, "data_offsets", file, where);
        if (offsets.length != 2) {
            throw new CheckpointException(file, where, "data_offsets must be [begin, end], found "
                    + java.util.Arrays.toString(offsets));
        }
        long begin = offsets[0];
        long end = offsets[1];
        if (begin < 0 || end < begin || end > payloadLength) {
            throw new CheckpointException(file, where, "data_offsets [" + begin + ", " + end + "] are out of bounds:"
                    + " the data section has " + payloadLength + " bytes (the file is truncated or corrupt)");
        }
        long expected;
        try {
            expected = Math.multiplyExact(elements, type.getNumOfBytes());
        } catch (ArithmeticException e) {
            throw new CheckpointException(file, where, "shape " + java.util.Arrays.toString(dims) + " is too large");
        }
        if (end - begin != expected) {
            throw new CheckpointException(file, where, "holds " + (end - begin) + " bytes, but " + type + " of shape "
                    + java.util.Arrays.toString(dims) + " needs " + expected);
        }
        return new TensorInfo(name, type, new Shape(dims), begin, end);
    }

    /** The tensors must tile the data section exactly: no overlap, no gap, no trailing bytes. */
    private static void checkLayout(Map<String, TensorInfo> tensors, long payloadLength, Path file, String entry) {
        List<TensorInfo> sorted = new ArrayList<>(tensors.values());
        sorted.sort(Comparator.comparingLong((TensorInfo t) -> t.begin).thenComparingLong(t -> t.end));
        long expected = 0;
        for (TensorInfo current : sorted) {
            if (current.begin < expected) {
                throw new CheckpointException(file, entry + ": " + current.name, "its bytes overlap another"
                        + " tensor's; the file is corrupt");
            }
            if (current.begin > expected) {
                throw new CheckpointException(file, entry + ": " + current.name, "bytes " + expected + " to "
                        + current.begin + " of the data section belong to no tensor; the file is corrupt (or a"
                        + " tensor name appears twice in the header)");
            }
            expected = current.end;
        }
        if (expected != payloadLength) {
            throw new CheckpointException(file, entry, "the data section has " + payloadLength + " bytes but the"
                    + " tensors use " + expected + "; the file is corrupt");
        }
    }

    private static String string(JsonObject object, String key, Path file, String where) {
        JsonElement value = object.get(key);
        if (value == null || !value.isJsonPrimitive() || !value.getAsJsonPrimitive().isString()) {
            throw new CheckpointException(file, where + "." + key, "missing or not a string");
        }
        return value.getAsString();
    }

    private static long[] longs(JsonObject object, String key, Path file, String where) {
        JsonElement value = object.get(key);
        if (value == null || !value.isJsonArray()) {
            throw new CheckpointException(file, where + "." + key, "missing or not a list of integers");
        }
        long[] out = new long[value.getAsJsonArray().size()];
        int i = 0;
        for (JsonElement element : value.getAsJsonArray()) {
            if (!element.isJsonPrimitive() || !element.getAsJsonPrimitive().isNumber()) {
                throw new CheckpointException(file, where + "." + key, "holds " + element + ", not an integer");
            }
            try {
                out[i++] = element.getAsBigDecimal().longValueExact();
            } catch (ArithmeticException | NumberFormatException e) {
                throw new CheckpointException(file, where + "." + key, "holds " + element + ", not an integer");
            }
        }
        return out;
    }

    /**
     * The data type of a safetensors dtype name; only types whose arrays this library creates safely.
     *
     * @param dtype e.g. {@code F32}
     * @param file the file, for messages
     * @param where the entry, for messages
     * @return the data type
     * @throws CheckpointException for a name that is unknown or not supported
     */
    static DataType dataType(String dtype, Path file, String where) {
        switch (dtype) {
            case "F64":
                return DataType.FLOAT64;
            case "F32":
                return DataType.FLOAT32;
            case "F16":
                return DataType.FLOAT16;
            case "I64":
                return DataType.INT64;
            case "I32":
                return DataType.INT32;
            case "I8":
                return DataType.INT8;
            case "U8":
                return DataType.UINT8;
            case "BOOL":
                return DataType.BOOLEAN;
            case "BF16":
            case "I16":
            case "U16":
            case "U32":
            case "U64":
            case "F8_E4M3":
            case "F8_E5M2":
                throw new CheckpointException(file, where + ".dtype", "dtype " + dtype + " is not supported; convert"
                        + " the tensor to F32, F64, F16, I64, I32, I8, U8 or BOOL before loading");
            default:
                throw new CheckpointException(file, where + ".dtype", "unknown dtype '" + dtype + "'");
        }
    }
}
