package io.github.djllightning.checkpoint;

import ai.djl.ndarray.NDArray;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The resumable state of a component, split the way a checkpoint stores it: plain values (numbers, strings,
 * booleans, lists and maps of them) for {@code checkpoint.json}, and named tensors for a safetensors file.
 *
 * <p>Tensor names use PyTorch's dotted convention (for example {@code state.0.exp_avg}). The tensors are owned by
 * the component that produced them; a consumer copies what it keeps.
 */
public final class StateDict {

    private final Map<String, Object> values;
    private final Map<String, NDArray> tensors;

    /** Creates an empty state dict. */
    public StateDict() {
        this(new LinkedHashMap<>(), new LinkedHashMap<>());
    }

    /**
     * Creates a state dict over the given maps (not copied).
     *
     * @param values the plain values
     * @param tensors the named tensors
     */
    public StateDict(Map<String, Object> values, Map<String, NDArray> tensors) {
        this.values = values;
        this.tensors = tensors;
    }

    /** The plain values, in insertion order; mutable. */
    public Map<String, Object> values() {
        return values;
    }

    /** The named tensors, in insertion order; mutable. */
    public Map<String, NDArray> tensors() {
        return tensors;
    }
}
