package io.github.djllightning.checkpoint;

import ai.djl.ndarray.NDManager;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonParseException;
import com.google.gson.ToNumberPolicy;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * Reads a {@code .ckpt} file written by {@link CheckpointWriter}, checking everything before anything is used: the
 * ZIP structure, the entry names ({@code checkpoint.json} and {@code <group>.safetensors} only, no folders), the
 * JSON, the format version, the top-level fields and every safetensors header. Failures are {@link
 * CheckpointException}s naming the file and the field.
 */
public final class CheckpointReader {

    private static final int MAX_ENTRIES = 64;
    private static final Pattern TENSOR_ENTRY = Pattern.compile("[A-Za-z0-9_]+\\.safetensors");
    private static final String SUFFIX = ".safetensors";
    private static final String NON_FINITE = "\u0000non-finite:";
    private static final Gson GSON = new GsonBuilder()
            .setObjectToNumberStrategy(ToNumberPolicy.LONG_OR_DOUBLE)
            .serializeSpecialFloatingPointValues()
            .create();

    private CheckpointReader() {}

    /**
     * Reads a checkpoint with its tensors.
     *
     * @param file the {@code .ckpt} file
     * @param manager the manager that owns the tensors read (close it when done)
     * @return the checkpoint
     * @throws CheckpointException if the file is missing, unreadable, corrupt or of a newer format
     */
    public static Checkpoint read(Path file, NDManager manager) {
        Checkpoint checkpoint = new Checkpoint(file);
        Map<String, SafetensorsReader.Contents> groups = readChecked(file, checkpoint.entries());
        for (Map.Entry<String, SafetensorsReader.Contents> group : groups.entrySet()) {
            checkpoint.tensors(group.getKey()).putAll(group.getValue().createAll(manager));
        }
        return checkpoint;
    }

    /**
     * Reads only {@code checkpoint.json} (after checking the whole file), for tools that look at a checkpoint's
     * contents without creating tensors.
     *
     * @param file the {@code .ckpt} file
     * @return the top-level entries
     * @throws CheckpointException if the file is missing, unreadable, corrupt or of a newer format
     */
    public static Map<String, Object> readEntries(Path file) {
        Map<String, Object> entries = new LinkedHashMap<>();
        readChecked(file, entries);
        return entries;
    }

    private static Map<String, SafetensorsReader.Contents> readChecked(Path file, Map<String, Object> entries) {
        if (!Files.isRegularFile(file)) {
            throw new CheckpointException(file, null, Files.exists(file)
                    ? "not a regular file"
                    : "no such file; check the path");
        }
        Map<String, SafetensorsReader.Contents> groups = new LinkedHashMap<>();
        boolean json = false;
        try (ZipFile zip = new ZipFile(file.toFile())) {
            // the writer stores entries uncompressed: no entry can be larger than the file
            long limit = Files.size(file);
            if (zip.size() > MAX_ENTRIES) {
                throw new CheckpointException(file, null, "holds " + zip.size() + " entries; a checkpoint holds "
                        + CheckpointWriter.JSON_ENTRY + " and a few .safetensors files");
            }
            Enumeration<? extends ZipEntry> all = zip.entries();
            while (all.hasMoreElements()) {
                ZipEntry entry = all.nextElement();
                String name = entry.getName();
                if (CheckpointWriter.JSON_ENTRY.equals(name)) {
                    entries.putAll(parseJson(read(zip, entry, file, limit), file));
                    json = true;
                } else if (TENSOR_ENTRY.matcher(name).matches()) {
                    String group = name.substring(0, name.length() - SUFFIX.length());
                    groups.put(group, SafetensorsReader.parse(read(zip, entry, file, limit), file, name));
                } else {
                    throw new CheckpointException(file, name, "unexpected entry; a checkpoint holds only "
                            + CheckpointWriter.JSON_ENTRY + " and <name>.safetensors files");
                }
            }
        } catch (ZipException e) {
            throw new CheckpointException(file, null, "not a valid checkpoint archive (truncated or corrupt ZIP: "
                    + e.getMessage() + "); use an earlier checkpoint", e);
        } catch (IOException e) {
            throw new CheckpointException(file, null, "cannot read the file: " + e, e);
        }
        if (!json) {
            throw new CheckpointException(file, CheckpointWriter.JSON_ENTRY, "missing; this is not a checkpoint"
                    + " written by this library");
        }
        checkFields(entries, file);
        if (!groups.containsKey("state_dict")) {
            throw new CheckpointException(file, "state_dict.safetensors", "missing; the checkpoint has no weights");
        }
        return groups;
    }

    private static byte[] read(ZipFile zip, ZipEntry entry, Path file, long limit) throws IOException {
        long size = entry.getSize();
        if (size > Integer.MAX_VALUE - 8) {
            throw new CheckpointException(file, entry.getName(), "holds " + size + " bytes; entries over 2 GB are"
                    + " not supported");
        }
        if (size > limit) {
            throw new CheckpointException(file, entry.getName(), "says it holds " + size + " bytes, more than the"
                    + " whole file (" + limit + "); the file is corrupt or not written by this library");
        }
        try (InputStream in = zip.getInputStream(entry)) {
            // never more than the file's size, whatever the archive claims
            byte[] bytes = in.readNBytes((int) Math.min(limit + 1, Integer.MAX_VALUE - 8));
            if (bytes.length > limit) {
                throw new CheckpointException(file, entry.getName(), "expands beyond the size of the file; the file"
                        + " is corrupt or not written by this library");
            }
            if (size >= 0 && bytes.length != size) {
                throw new CheckpointException(file, entry.getName(), "holds " + bytes.length + " bytes but the"
                        + " archive says " + size + "; the file is corrupt");
            }
            // the archive's own check: uncompressed (stored) entries are not checked while they are read
            CRC32 crc = new CRC32();
            crc.update(bytes);
            if (entry.getCrc() != -1 && crc.getValue() != entry.getCrc()) {
                throw new CheckpointException(file, entry.getName(), "does not match its CRC-32 checksum; the file"
                        + " is corrupt, use an earlier checkpoint");
            }
            return bytes;
        } catch (ZipException e) {
            throw new CheckpointException(file, entry.getName(), "corrupt entry: " + e.getMessage(), e);
        }
    }

    private static Map<String, Object> parseJson(byte[] bytes, Path file) {
        Object parsed;
        try {
            parsed = restoreNonFinite(GSON.fromJson(markNonFinite(new String(bytes, StandardCharsets.UTF_8)),
                    Object.class));
        } catch (JsonParseException e) {
            throw new CheckpointException(file, CheckpointWriter.JSON_ENTRY, "not valid JSON: " + e.getMessage(), e);
        }
        if (!(parsed instanceof Map)) {
            throw new CheckpointException(file, CheckpointWriter.JSON_ENTRY, "must be a JSON object");
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> map = (Map<String, Object>) parsed;
        return map;
    }

    /**
     * Quotes the bare {@code NaN}, {@code Infinity} and {@code -Infinity} tokens the writer uses for non-finite
     * numbers (as Python's json module does) behind a marker, so that they come back as numbers and a string that
     * happens to read "NaN" stays a string.
     */
    static String markNonFinite(String json) {
        StringBuilder out = new StringBuilder(json.length() + 16);
        boolean inString = false;
        for (int i = 0; i < json.length(); i++) {
            char c = json.charAt(i);
            if (inString) {
                out.append(c);
                if (c == '\\' && i + 1 < json.length()) {
                    out.append(json.charAt(++i));
                } else if (c == '"') {
                    inString = false;
                }
                continue;
            }
            if (c == '"') {
                inString = true;
                out.append(c);
                continue;
            }
            String token = json.startsWith("NaN", i) ? "NaN"
                    : json.startsWith("-Infinity", i) ? "-Infinity"
                    : json.startsWith("Infinity", i) ? "Infinity" : null;
            if (token != null) {
                out.append('"').append(NON_FINITE).append(token).append('"');
                i += token.length() - 1;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    @SuppressWarnings("unchecked")
    private static Object restoreNonFinite(Object value) {
        if (value instanceof String && ((String) value).startsWith(NON_FINITE)) {
            return Double.parseDouble(((String) value).substring(NON_FINITE.length()));
        }
        if (value instanceof Map) {
            ((Map<String, Object>) value).replaceAll((k, v) -> restoreNonFinite(v));
        } else if (value instanceof java.util.List) {
            ((java.util.List<Object>) value).replaceAll(CheckpointReader::restoreNonFinite);
        }
        return value;
    }

    private static void checkFields(Map<String, Object> entries, Path file) {
        long version = integer(entries, "format_version", file);
        if (version > Checkpoints.FORMAT_VERSION) {
            throw new CheckpointException(file, "format_version", "the checkpoint has format " + version + " (written"
                    + " by djl-lightning " + entries.get("library_version") + "), but this version reads formats up"
                    + " to " + Checkpoints.FORMAT_VERSION + "; upgrade djl-lightning to read it");
        }
        if (version < 1) {
            throw new CheckpointException(file, "format_version", "must be at least 1, found " + version);
        }
        integer(entries, "epoch", file);
        integer(entries, "global_step", file);
        optional(entries, "loops", Map.class, "an object", file);
        optional(entries, "callbacks", Map.class, "an object", file);
        optional(entries, "optimizer_states", java.util.List.class, "a list", file);
        optional(entries, "lr_schedulers", java.util.List.class, "a list", file);
        optional(entries, "hyper_parameters", Map.class, "an object", file);
        optional(entries, "input_shapes", Map.class, "an object", file);
        optional(entries, "rng", Map.class, "an object", file);
        optional(entries, "module_class", String.class, "a string", file);
    }

    private static long integer(Map<String, Object> entries, String key, Path file) {
        Object value = entries.get(key);
        if (!(value instanceof Long) || (Long) value < 0) {
            throw new CheckpointException(file, CheckpointWriter.JSON_ENTRY + ": " + key, value == null
                    ? "missing"
                    : "must be a non-negative integer, found " + value);
        }
        return (Long) value;
    }

    private static void optional(Map<String, Object> entries, String key, Class<?> type, String what, Path file) {
        Object value = entries.get(key);
        if (value != null && !type.isInstance(value)) {
            throw new CheckpointException(file, CheckpointWriter.JSON_ENTRY + ": " + key, "must be " + what
                    + ", found " + value);
        }
    }
}
