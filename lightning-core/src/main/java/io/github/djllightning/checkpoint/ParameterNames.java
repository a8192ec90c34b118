package io.github.djllightning.checkpoint;

import ai.djl.nn.Block;
import ai.djl.nn.ParallelBlock;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Embedding;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.util.Pair;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * PyTorch-style names of a block's parameters ({@code encoder.0.weight}), found by walking the block tree rather
 * than by parsing DJL's flat keys: a named child keeps its name, a child of a sequential or parallel block gets its
 * zero-based index, exactly as the same model built with {@code nn.Sequential} in PyTorch; the parameters of DJL's
 * normalization and embedding layers take PyTorch's names ({@link #localName}). PyTorch's {@code BatchNorm} also has a
 * {@code num_batches_tracked} buffer, which DJL has not: load such weights into PyTorch with {@code strict=False}.
 */
public final class ParameterNames {

    private ParameterNames() {}

    /**
     * Names every parameter of the block tree, in DJL's parameter order.
     *
     * @param root the root block
     * @return dotted name to parameter
     */
    public static Map<String, Parameter> of(Block root) {
        Map<String, Parameter> out = new LinkedHashMap<>();
        walk(root, "", out);
        return out;
    }

    /**
     * PyTorch's name for a parameter of one of DJL's built-in layers whose parameter names differ: the normalization
     * layers' {@code gamma}, {@code beta}, {@code runningMean}, {@code runningVar} are {@code weight}, {@code bias},
     * {@code running_mean}, {@code running_var}, and an embedding's {@code embedding} is {@code weight}. Other names
     * are kept.
     *
     * @param block the block that owns the parameter
     * @param name DJL's name
     * @return the name PyTorch uses
     */
    static String localName(Block block, String name) {
        if (block instanceof BatchNorm || block instanceof LayerNorm) {
            switch (name) {
                case "gamma":
                    return "weight";
                case "beta":
                    return "bias";
                case "runningMean":
                    return "running_mean";
                case "runningVar":
                    return "running_var";
                default:
                    return name;
            }
        }
        if (block instanceof Embedding && "embedding".equals(name)) {
            return "weight";
        }
        return name;
    }

    /**
     * The dotted path of every block in the tree ({@code ""} for the root, {@code encoder.0} for a nested layer).
     *
     * @param root the root block
     * @return block to path, by identity, in tree order
     */
    public static Map<Block, String> blockPaths(Block root) {
        Map<Block, String> out = new java.util.IdentityHashMap<>();
        walkBlocks(root, "", out);
        return out;
    }

    private static void walkBlocks(Block block, String path, Map<Block, String> out) {
        out.putIfAbsent(block, path);
        boolean indexed = block instanceof SequentialBlock || block instanceof ParallelBlock;
        int position = 0;
        for (Pair<String, Block> child : block.getChildren()) {
            String name = indexed ? Integer.toString(position) : childName(child.getKey(), position);
            walkBlocks(child.getValue(), path.isEmpty() ? name : path + "." + name, out);
            position++;
        }
    }

    private static void walk(Block block, String prefix, Map<String, Parameter> out) {
        for (Pair<String, Parameter> entry : block.getDirectParameters()) {
            out.put(prefix + localName(block, entry.getKey()), entry.getValue());
        }
        boolean indexed = block instanceof SequentialBlock || block instanceof ParallelBlock;
        int position = 0;
        for (Pair<String, Block> child : block.getChildren()) {
            String name = indexed ? Integer.toString(position) : childName(child.getKey(), position);
            walk(child.getValue(), prefix + name + ".", out);
            position++;
        }
    }

    /**
     * A child's name without the position prefix DJL puts in front of it ({@code 01encoder} becomes {@code encoder};
     * a name that itself starts with digits keeps them).
     *
     * @param key the child's key in its parent
     * @param position the child's zero-based position among its parent's children
     * @return the name given to {@code addChildBlock}
     */
    public static String childName(String key, int position) {
        String prefix = String.format(Locale.ROOT, "%02d", position + 1);
        return key.startsWith(prefix) && key.length() > prefix.length() ? key.substring(prefix.length()) : key;
    }
}
