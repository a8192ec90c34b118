package io.github.djllightning.log;

import io.github.djllightning.util.AtomicFiles;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.Yaml;

/**
 * Writes a run's {@code hparams.yaml}, as the loggers do: block-style YAML, replaced atomically. Values that are not
 * plain (numbers, strings, booleans, lists, maps, arrays) are written as their {@code toString()}.
 */
public final class HparamsYaml {

    private HparamsYaml() {}

    /**
     * Writes the hyperparameters, creating the folder when missing.
     *
     * @param file the {@code hparams.yaml} file
     * @param hparams the hyperparameters, in order
     * @throws IOException when the file cannot be written (the previous one is then untouched)
     */
    public static void write(Path file, Map<String, Object> hparams) throws IOException {
        DumperOptions options = new DumperOptions();
        options.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
        options.setIndent(2);
        String text = new Yaml(options).dump(plain(hparams));
        Files.createDirectories(file.toAbsolutePath().getParent());
        AtomicFiles.write(file, out -> {
            Writer writer = new OutputStreamWriter(out, StandardCharsets.UTF_8);
            writer.write(text);
            writer.flush();
        });
    }

    private static Object plain(Object value) {
        if (value == null || value instanceof String || value instanceof Boolean || value instanceof Integer
                || value instanceof Long || value instanceof Double || value instanceof Float
                || value instanceof Short || value instanceof Byte) {
            return value;
        }
        if (value instanceof Number || value instanceof Character || value instanceof Enum<?>) {
            return value.toString();
        }
        if (value instanceof Map<?, ?>) {
            Map<String, Object> out = new LinkedHashMap<>();
            for (Map.Entry<?, ?> entry : ((Map<?, ?>) value).entrySet()) {
                out.put(String.valueOf(entry.getKey()), plain(entry.getValue()));
            }
            return out;
        }
        if (value instanceof Collection<?>) {
            List<Object> out = new ArrayList<>();
            for (Object item : (Collection<?>) value) {
                out.add(plain(item));
            }
            return out;
        }
        if (value.getClass().isArray()) {
            return plain(arrayToList(value));
        }
        return value.toString();
    }

    private static List<Object> arrayToList(Object array) {
        if (array instanceof Object[]) {
            return Arrays.asList((Object[]) array);
        }
        int length = java.lang.reflect.Array.getLength(array);
        List<Object> out = new ArrayList<>(length);
        for (int i = 0; i < length; i++) {
            out.add(java.lang.reflect.Array.get(array, i));
        }
        return out;
    }
}
