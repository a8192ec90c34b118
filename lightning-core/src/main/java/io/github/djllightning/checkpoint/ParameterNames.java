package io.github.djllightning.checkpoint;

import ai.djl.nn.Block;
import ai.djl.nn.ParallelBlock;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.util.Pair;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * PyTorch-style names of a block's parameters ({@code encoder.0.weight}), found by walking the block tree rather
 * than by parsing DJL's flat keys: a named child keeps its name, a child of a sequential or parallel block gets its
 * zero-based index, exactly as the same model built with {@code nn.Sequential} in PyTorch.
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

    private static void walk(Block block, String prefix, Map<String, Parameter> out) {
        for (Pair<String, Parameter> entry : block.getDirectParameters()) {
            out.put(prefix + entry.getKey(), entry.getValue());
        }
        boolean indexed = block instanceof SequentialBlock || block instanceof ParallelBlock;
        for (Pair<String, Block> child : block.getChildren()) {
            String name = indexed ? Integer.toString(index(child.getKey()) - 1) : stripIndex(child.getKey());
            walk(child.getValue(), prefix + name + ".", out);
        }
    }

    private static int index(String key) {
        int i = 0;
        while (i < key.length() && Character.isDigit(key.charAt(i))) {
            i++;
        }
        return Integer.parseInt(key.substring(0, i));
    }

    /**
     * A child's name without DJL's two-digit position prefix ({@code 01encoder} becomes {@code encoder}).
     *
     * @param key the child's key in its parent
     * @return the name
     */
    public static String stripIndex(String key) {
        int i = 0;
        while (i < key.length() && Character.isDigit(key.charAt(i))) {
            i++;
        }
        return key.substring(i);
    }
}
