package io.github.djllightning.checkpoint;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.jni.JniUtils;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * A block's weights as a PyTorch-style state dict ({@code encoder.0.weight} to array), and loading one back into the
 * block's own arrays in place, so every holder of a parameter (optimizers, cached stores) sees the loaded values.
 */
public final class Weights {

    private Weights() {}

    /**
     * The block's initialized parameters by dotted name; the arrays are the live parameters, not copies.
     *
     * @param block the block
     * @return name to array, in DJL's parameter order
     */
    public static Map<String, NDArray> stateDict(Block block) {
        Map<String, NDArray> out = new LinkedHashMap<>();
        for (Map.Entry<String, Parameter> entry : ParameterNames.of(block).entrySet()) {
            if (entry.getValue().isInitialized()) {
                out.put(entry.getKey(), entry.getValue().getArray());
            }
        }
        return out;
    }

    /**
     * Copies a state dict into the block's parameters in place, after checking all of it: the names must match
     * exactly (no missing, no extra key), and each tensor's shape and data type must be the parameter's. Nothing is
     * changed when a check fails.
     *
     * @param block the block, with its parameters initialized
     * @param tensors name to tensor, PyTorch-style names
     * @param file the file the tensors came from, for messages (may be null)
     * @param entry the entry or file name, for messages
     * @throws CheckpointException naming the keys, shapes or types that do not match
     */
    public static void load(Block block, Map<String, NDArray> tensors, Path file, String entry) {
        Map<String, Parameter> params = ParameterNames.of(block);
        List<String> uninitialized = new ArrayList<>();
        for (Map.Entry<String, Parameter> param : params.entrySet()) {
            if (!param.getValue().isInitialized()) {
                uninitialized.add(param.getKey());
            }
        }
        if (!uninitialized.isEmpty()) {
            throw new CheckpointException(file, entry, "the parameters " + uninitialized + " of "
                    + block.getClass().getSimpleName() + " are not initialized, so their shapes are unknown;"
                    + " initialize the block first (block.initialize(manager, DataType.FLOAT32, inputShape) or one"
                    + " forward pass)");
        }
        TreeSet<String> missing = new TreeSet<>(params.keySet());
        missing.removeAll(tensors.keySet());
        TreeSet<String> extra = new TreeSet<>(tensors.keySet());
        extra.removeAll(params.keySet());
        if (!missing.isEmpty() || !extra.isEmpty()) {
            throw new CheckpointException(file, entry, "the weights do not match "
                    + block.getClass().getSimpleName() + (missing.isEmpty() ? "" : "; missing keys: " + missing)
                    + (extra.isEmpty() ? "" : "; unexpected keys: " + extra)
                    + ". Build the module the same way as the one that saved them (same layers, same child names)");
        }
        for (Map.Entry<String, Parameter> param : params.entrySet()) {
            NDArray target = param.getValue().getArray();
            NDArray source = tensors.get(param.getKey());
            if (!target.getShape().equals(source.getShape())) {
                throw new CheckpointException(file, entry + ": " + param.getKey(), "shape mismatch: the module has "
                        + target.getShape() + ", the file has " + source.getShape());
            }
            if (target.getDataType() != source.getDataType()) {
                throw new CheckpointException(file, entry + ": " + param.getKey(), "data type mismatch: the module"
                        + " has " + target.getDataType() + ", the file has " + source.getDataType());
            }
        }
        boolean gradMode = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        try {
            for (Map.Entry<String, Parameter> param : params.entrySet()) {
                copyInPlace(tensors.get(param.getKey()), param.getValue().getArray());
            }
        } finally {
            JniUtils.setGradMode(gradMode);
        }
    }

    /**
     * Overwrites the values of {@code target} with those of {@code source} (same shape and type), keeping the target
     * array object, its storage and its gradient.
     *
     * @param source the values
     * @param target the array to overwrite
     */
    static void copyInPlace(NDArray source, NDArray target) {
        NDArray moved = source.getDevice().equals(target.getDevice()) ? source : source.toDevice(target.getDevice(),
                true);
        try {
            if (target.getShape().dimension() == 0) {
                target.set(new NDIndex(), moved);
            } else {
                target.set(new NDIndex(":"), moved);
            }
        } finally {
            if (moved != source) {
                moved.close();
            }
        }
    }

}
