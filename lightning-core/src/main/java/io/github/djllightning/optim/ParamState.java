package io.github.djllightning.optim;

import ai.djl.ndarray.NDArray;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The optimizer state of one parameter (torch's {@code optimizer.state[p]}): a step count and named tensors such as
 * {@code exp_avg} or {@code momentum_buffer}.
 *
 * <p>The tensors live in the owning {@link Optimizer}'s native manager, are updated in place by the optimizer, and
 * are freed by {@link Optimizer#close()}. Subclasses of {@link Optimizer} create them through
 * {@link #zerosLike(String, NDArray)} and {@link #copyOf(String, NDArray)}, never with a manager of their own, so that
 * saving, loading and closing see every tensor.
 */
public final class ParamState {

    private final Optimizer owner;
    private final LinkedHashMap<String, NDArray> tensors = new LinkedHashMap<>();
    private final Map<String, NDArray> tensorsView = Collections.unmodifiableMap(tensors);
    private long step;

    ParamState(Optimizer owner) {
        this.owner = owner;
    }

    /**
     * Returns how many updates this parameter has received, for optimizers that count them (Adam's bias correction).
     *
     * @return the step count; 0 for optimizers that do not count
     */
    public long step() {
        return step;
    }

    /**
     * Counts one more update.
     *
     * @return the new step count, starting at 1 for the first update
     */
    public long incrementStep() {
        return ++step;
    }

    void setStep(long step) {
        this.step = step;
    }

    /**
     * Returns a state tensor.
     *
     * @param name the tensor's torch name, for example {@code exp_avg}
     * @return the tensor, or {@code null} if this parameter has none of that name yet
     */
    public NDArray tensor(String name) {
        return tensors.get(name);
    }

    /**
     * Returns the named state tensor, creating it filled with zeros in the shape, type and device of {@code like}
     * the first time.
     *
     * @param name the tensor's torch name
     * @param like the array whose shape, data type and device the new tensor takes (usually the weight)
     * @return the state tensor, owned by the optimizer
     */
    public NDArray zerosLike(String name, NDArray like) {
        NDArray existing = tensors.get(name);
        if (existing != null) {
            return existing;
        }
        NDArray created = owner.newStateZeros(like);
        tensors.put(name, created);
        return created;
    }

    /**
     * Creates the named state tensor as a copy of {@code source} (torch's first momentum buffer is a clone of the
     * gradient), replacing and freeing any tensor of that name.
     *
     * @param name the tensor's torch name
     * @param source the values to copy; not kept
     * @return the new state tensor, owned by the optimizer
     */
    public NDArray copyOf(String name, NDArray source) {
        NDArray created = owner.newStateCopy(source);
        NDArray previous = tensors.put(name, created);
        if (previous != null) {
            previous.close();
        }
        return created;
    }

    /**
     * Returns all state tensors of this parameter.
     *
     * @return the tensors by name, in creation order; unmodifiable
     */
    public Map<String, NDArray> tensors() {
        return tensorsView;
    }

    void removeTensor(String name) {
        NDArray removed = tensors.remove(name);
        if (removed != null) {
            removed.close();
        }
    }

    boolean isEmpty() {
        return step == 0 && tensors.isEmpty();
    }

    void close() {
        for (NDArray tensor : tensors.values()) {
            tensor.close();
        }
        tensors.clear();
        step = 0;
    }
}
