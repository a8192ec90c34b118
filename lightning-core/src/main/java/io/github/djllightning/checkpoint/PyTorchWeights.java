package io.github.djllightning.checkpoint;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.util.Utils;
import io.github.djllightning.util.AtomicFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * Moves weights between DJL blocks and PyTorch: {@code .safetensors} files with PyTorch's parameter names (so that
 * {@code model.load_state_dict(safetensors.torch.load_file(path), strict=True)} takes them, and a file saved with
 * {@code safetensors.torch.save_file(model.state_dict(), path)} loads back), part of a training checkpoint into a
 * plain block (the encoder of a trained autoencoder, say), and a plain block saved as a DJL model folder that
 * {@code Criteria} loads for inference.
 *
 * <p>Names come from {@link ParameterNames}: a child added with {@code addChildBlock("encoder", ...)} is
 * {@code encoder}, the children of a {@code SequentialBlock} are numbered from zero, layers without parameters
 * included, as in {@code nn.Sequential}. DJL's {@code Linear} stores its weight as {@code (out, in)}, like PyTorch's
 * {@code nn.Linear}, so weights need no transposition.
 */
public final class PyTorchWeights {

    /** The {@code __metadata__} written into exported files: PyTorch's tensor layout. */
    public static final Map<String, String> METADATA = Map.of("format", "pt");

    private static final String STATE_DICT = "state_dict";

    private PyTorchWeights() {}

    /**
     * Writes the block's parameters to a {@code .safetensors} file with PyTorch's names ({@code encoder.0.weight}),
     * floating-point values as little-endian float32, and {@code __metadata__} {@code {"format": "pt"}}. The file is
     * replaced atomically: a failure leaves the previous file, or none.
     *
     * @param block the block, with its parameters initialized
     * @param file the file to write; its folder is created when missing
     * @throws IllegalStateException if the block has no parameters or some are not initialized
     * @throws UncheckedIOException naming the file when writing fails
     */
    public static void exportSafetensors(Block block, Path file) {
        Objects.requireNonNull(block, "block");
        Objects.requireNonNull(file, "file");
        Map<String, Parameter> params = ParameterNames.of(block);
        if (params.isEmpty()) {
            throw new IllegalStateException(block.getClass().getSimpleName() + " has no parameters to export");
        }
        List<String> uninitialized = new ArrayList<>();
        for (Map.Entry<String, Parameter> param : params.entrySet()) {
            if (!param.getValue().isInitialized()) {
                uninitialized.add(param.getKey());
            }
        }
        if (!uninitialized.isEmpty()) {
            throw new IllegalStateException("cannot export " + block.getClass().getSimpleName() + ": the parameters "
                    + uninitialized + " are not initialized; initialize the block first"
                    + " (block.initialize(manager, DataType.FLOAT32, inputShape) or one forward pass)");
        }
        List<NDArray> converted = new ArrayList<>();
        try {
            Map<String, NDArray> tensors = new LinkedHashMap<>();
            for (Map.Entry<String, Parameter> param : params.entrySet()) {
                NDArray array = param.getValue().getArray();
                NDArray cpu = array;
                if (!Device.cpu().equals(array.getDevice())) {
                    cpu = array.toDevice(Device.cpu(), true);
                    converted.add(cpu);
                }
                NDArray out = cpu;
                if (cpu.getDataType().isFloating() && cpu.getDataType() != DataType.FLOAT32) {
                    out = cpu.toType(DataType.FLOAT32, true);
                    converted.add(out);
                }
                tensors.put(param.getKey(), out);
            }
            AtomicFiles.write(file, out -> SafetensorsWriter.write(tensors, METADATA, out));
        } catch (IOException e) {
            throw new UncheckedIOException("Could not write " + file.toAbsolutePath() + ": " + e.getMessage(), e);
        } finally {
            converted.forEach(NDArray::close);
        }
    }

    /**
     * Loads a {@code .safetensors} file into the block's parameters, in place (optimizers and other holders of the
     * arrays see the new values). Strict, like PyTorch's {@code load_state_dict(..., strict=True)}: every parameter
     * must be in the file and every tensor of the file must be a parameter, with the same shape; otherwise a {@link
     * CheckpointException} names the keys or the shapes, and nothing is changed. Floating-point tensors are converted
     * to the parameter's floating-point type (a float16 file loads into a float32 block), as PyTorch's copy does.
     * Files whose {@code __metadata__} says {@code "format": "tf"} or {@code "flax"} are refused: their layout is not
     * PyTorch's.
     *
     * @param block the block, with its parameters initialized (their shapes are checked against the file)
     * @param file the {@code .safetensors} file, for example written by {@code safetensors.torch.save_file}
     * @throws CheckpointException if the file is unreadable, corrupt, or does not match the block
     */
    public static void importSafetensors(Block block, Path file) {
        Objects.requireNonNull(block, "block");
        Objects.requireNonNull(file, "file");
        SafetensorsReader.Contents contents = SafetensorsReader.read(file);
        String entry = String.valueOf(file.getFileName());
        String format = contents.metadata().get("format");
        if ("tf".equals(format) || "flax".equals(format)) {
            throw new CheckpointException(file, entry + ": __metadata__.format", "the weights are in " + format
                    + " layout, not PyTorch's (\"pt\"); export them from a PyTorch model");
        }
        try (NDManager scope = NDManager.newBaseManager(Device.cpu())) {
            Map<String, NDArray> tensors = contents.createAll(scope);
            Weights.load(block, castFloating(block, tensors), file, entry);
        }
    }

    /**
     * Loads part of a training checkpoint into a plain block: the {@code state_dict} weights whose names start with
     * {@code keyPrefix}, with the prefix removed. For example the encoder of a trained autoencoder, whose checkpoint
     * holds {@code encoder.0.weight} and {@code decoder.0.weight}, loads into a bare encoder block (names {@code
     * 0.weight}, ...) with the prefix {@code encoder.}. The load is strict and in place, as {@link
     * #importSafetensors(Block, Path)}.
     *
     * @param ckpt the {@code .ckpt} file
     * @param keyPrefix the prefix of the names to load, e.g. {@code encoder.} (a trailing dot is added when missing,
     *     so {@code encoder} does not also take {@code encoder2.*}); empty for the whole state dict
     * @param target the block, with its parameters initialized
     * @throws CheckpointException if the checkpoint cannot be read, no weight name starts with the prefix (the
     *     message lists the prefixes there are), or the selected weights do not match the block
     */
    public static void fromCheckpoint(Path ckpt, String keyPrefix, Block target) {
        Objects.requireNonNull(ckpt, "ckpt");
        Objects.requireNonNull(keyPrefix, "keyPrefix");
        Objects.requireNonNull(target, "target");
        String prefix = keyPrefix.isEmpty() || keyPrefix.endsWith(".") ? keyPrefix : keyPrefix + ".";
        String entry = STATE_DICT + ".safetensors";
        try (NDManager scope = NDManager.newBaseManager(Device.cpu())) {
            Map<String, NDArray> all = CheckpointReader.read(ckpt, scope).tensors(STATE_DICT);
            Map<String, NDArray> selected = new LinkedHashMap<>();
            for (Map.Entry<String, NDArray> tensor : all.entrySet()) {
                if (tensor.getKey().startsWith(prefix)) {
                    selected.put(tensor.getKey().substring(prefix.length()), tensor.getValue());
                }
            }
            if (selected.isEmpty()) {
                throw new CheckpointException(ckpt, entry, all.isEmpty()
                        ? "the checkpoint holds no weights"
                        : "no weight name starts with '" + prefix + "'; the prefixes in this checkpoint are "
                                + prefixes(all.keySet(), prefix) + " (" + all.size() + " weights)");
            }
            Weights.load(target, castFloating(target, selected), ckpt,
                    prefix.isEmpty() ? entry : entry + " (prefix '" + prefix + "')");
        }
    }

    /**
     * Saves a plain block with its weights as a DJL model folder, so that DJL loads it with the same architecture:
     * <pre>{@code
     * Criteria.builder().setTypes(NDList.class, NDList.class)
     *         .optModelPath(dir).optModelName(name).optBlock(sameArchitectureBlock)
     *         .build().loadModel()
     * }</pre>
     * and {@code model.newPredictor()} runs it. The file is DJL's {@code <name>-<epoch>.params}, written with {@code
     * Model.save} and moved into the folder atomically; the epoch number is one more than the highest already there
     * for that name (DJL loads the highest), so earlier saves are kept.
     *
     * @param block the block, initialized (for example trained, or loaded with {@link #fromCheckpoint})
     * @param dir the model folder; created when missing
     * @param name the model name, also the file name's stem (no path separators)
     * @return the {@code .params} file written
     * @throws IllegalStateException if the block is not initialized
     * @throws IllegalArgumentException if the name is empty or contains a path separator
     * @throws UncheckedIOException naming the folder when writing fails
     */
    public static Path saveDjlModel(Block block, Path dir, String name) {
        Objects.requireNonNull(block, "block");
        Objects.requireNonNull(dir, "dir");
        Objects.requireNonNull(name, "name");
        if (name.isEmpty() || name.contains("/") || name.contains("\\") || name.startsWith(".")) {
            throw new IllegalArgumentException("model name '" + name + "' must be a plain file name stem");
        }
        if (!block.isInitialized()) {
            throw new IllegalStateException("cannot save " + block.getClass().getSimpleName() + ": it is not"
                    + " initialized; initialize the block first (block.initialize(manager, DataType.FLOAT32,"
                    + " inputShape) or load its weights)");
        }
        Path staging = null;
        try {
            Files.createDirectories(dir);
            staging = Files.createTempDirectory(dir.toAbsolutePath(), "." + name + ".");
            // the model only borrows the block: closing it closes the model's own manager, not the block's arrays
            try (Model model = Model.newInstance(name, Device.cpu())) {
                model.setBlock(block);
                model.save(staging, name);
            }
            Path staged = staging.resolve(String.format(Locale.ROOT, "%s-%04d.params", name, 0));
            if (!Files.isRegularFile(staged)) {
                throw new IOException("DJL did not write " + staged.getFileName());
            }
            int epoch = Utils.getCurrentEpoch(dir, name) + 1;
            Path target = dir.resolve(String.format(Locale.ROOT, "%s-%04d.params", name, epoch));
            Path source = staged;
            AtomicFiles.write(target, out -> Files.copy(source, out));
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException(
                    "Could not save model '" + name + "' to " + dir.toAbsolutePath() + ": " + e.getMessage(), e);
        } finally {
            deleteQuietly(staging);
        }
    }

    /** The tensors, floating-point ones converted to the type of the floating-point parameter of the same name. */
    private static Map<String, NDArray> castFloating(Block block, Map<String, NDArray> tensors) {
        Map<String, Parameter> params = ParameterNames.of(block);
        Map<String, NDArray> out = new LinkedHashMap<>();
        for (Map.Entry<String, NDArray> tensor : tensors.entrySet()) {
            NDArray value = tensor.getValue();
            Parameter param = params.get(tensor.getKey());
            if (param != null && param.isInitialized()) {
                DataType wanted = param.getArray().getDataType();
                if (wanted.isFloating() && value.getDataType().isFloating() && value.getDataType() != wanted) {
                    // created in the tensor's own manager, which the caller closes
                    value = value.toType(wanted, true);
                }
            }
            out.put(tensor.getKey(), value);
        }
        return out;
    }

    /** The distinct name prefixes with as many dotted parts as {@code prefix}, for messages. */
    private static TreeSet<String> prefixes(Iterable<String> names, String prefix) {
        int depth = Math.max(1, (int) prefix.chars().filter(c -> c == '.').count());
        TreeSet<String> out = new TreeSet<>();
        for (String name : names) {
            int end = -1;
            for (int i = 0; i < depth; i++) {
                int dot = name.indexOf('.', end + 1);
                if (dot < 0) {
                    break;
                }
                end = dot;
            }
            out.add(end < 0 ? name : name.substring(0, end + 1));
        }
        return out;
    }

    private static void deleteQuietly(Path folder) {
        if (folder == null || !Files.exists(folder)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(folder)) {
            walk.sorted(Comparator.reverseOrder()).forEach(path -> {
                try {
                    Files.deleteIfExists(path);
                } catch (IOException e) {
                    // a leftover hidden temporary folder is harmless
                }
            });
        } catch (IOException e) {
            // same
        }
    }
}
