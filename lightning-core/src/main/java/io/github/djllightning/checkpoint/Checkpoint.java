package io.github.djllightning.checkpoint;

import ai.djl.ndarray.NDArray;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The content of a checkpoint while it is being written or read: the top-level entries of {@code checkpoint.json}
 * (Lightning's keys: {@code epoch}, {@code global_step}, {@code loops}, {@code callbacks}, ...) and the tensors,
 * grouped by the file they go to ({@code state_dict}, {@code optimizer_states}).
 *
 * <p>Callbacks and the module may add their own entries in {@code onSaveCheckpoint}; entries must be plain values
 * (numbers, strings, booleans, lists and maps of them).
 */
public final class Checkpoint {

    private final Map<String, Object> entries = new LinkedHashMap<>();
    private final Map<String, Map<String, NDArray>> tensorFiles = new LinkedHashMap<>();
    private final Path source;

    /** Creates an empty checkpoint to be written. */
    public Checkpoint() {
        this(null);
    }

    /**
     * Creates an empty checkpoint read from a file.
     *
     * @param source the file it is read from, or null
     */
    public Checkpoint(Path source) {
        this.source = source;
    }

    /** The file this checkpoint was read from, or null for one being written. */
    public Path source() {
        return source;
    }

    /** The top-level entries; mutable. */
    public Map<String, Object> entries() {
        return entries;
    }

    /**
     * The tensors stored in one file of the checkpoint, created empty on first use.
     *
     * @param file the file's base name, e.g. {@code state_dict}
     * @return the mutable map of tensor name to tensor
     */
    public Map<String, NDArray> tensors(String file) {
        return tensorFiles.computeIfAbsent(file, k -> new LinkedHashMap<>());
    }

    /** All tensor files, by base name. */
    public Map<String, Map<String, NDArray>> tensorFiles() {
        return tensorFiles;
    }
}
