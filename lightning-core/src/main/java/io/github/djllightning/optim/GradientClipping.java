package io.github.djllightning.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;

/**
 * Gradient clipping as torch's {@code clip_grad_norm_} and {@code clip_grad_value_} do it, in place on the
 * parameters' gradients, between the backward pass and the optimizer step.
 *
 * <p>Both run entirely on the device: the norm is never read back to the host, so clipping adds no synchronisation
 * to a training step. Parameters that are frozen, uninitialized or have no gradient are left alone.
 */
public final class GradientClipping {

    /** Selects a whole array, whatever its rank; used to write the clamped values back in place. */
    private static final NDIndex ALL = new NDIndex("...");
    /** torch adds this to the total norm so that an all-zero gradient does not divide by zero. */
    private static final float NORM_EPS = 1e-6f;

    private GradientClipping() {}

    /**
     * Rescales the gradients so that their joint L2 norm is at most {@code maxNorm}: with {@code total} the square
     * root of the sum of squares of all gradients, every gradient is multiplied by
     * {@code min(maxNorm / (total + 1e-6), 1)}.
     *
     * @param params the parameters whose gradients to clip
     * @param maxNorm the largest allowed norm, a finite number {@code >= 0}
     */
    public static void clipByNorm(Collection<Parameter> params, double maxNorm) {
        Objects.requireNonNull(params, "params");
        Checks.nonNegative("clipByNorm", "maxNorm", maxNorm);
        boolean gradMode = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        // The scope closes every temporary, including the gradient handles; the gradients themselves live on.
        try (NDScope scope = new NDScope()) {
            List<NDArray> grads = definedGradients(params);
            if (grads.isEmpty()) {
                return;
            }
            NDList norms = new NDList(grads.size());
            for (NDArray grad : grads) {
                norms.add(grad.norm());
            }
            NDArray total = NDArrays.stack(norms).norm();
            // scalars made by the engine: a Java number operand would allocate a direct buffer on every step
            NDManager manager = total.getManager();
            NDArray denominator = total.add(manager.full(new Shape(), NORM_EPS, total.getDataType()));
            NDArray coefficient = manager.full(new Shape(), (float) maxNorm, total.getDataType())
                    .div(denominator)
                    .minimum(manager.full(new Shape(), 1f, total.getDataType()));
            for (NDArray grad : grads) {
                grad.muli(coefficient);
            }
        } finally {
            JniUtils.setGradMode(gradMode);
        }
    }

    /**
     * Clamps every gradient element to {@code [-clipValue, clipValue]}; negative gradients are clipped too.
     *
     * @param params the parameters whose gradients to clip
     * @param clipValue the largest allowed magnitude, a finite number {@code >= 0}
     */
    public static void clipByValue(Collection<Parameter> params, double clipValue) {
        Objects.requireNonNull(params, "params");
        Checks.nonNegative("clipByValue", "clipValue", clipValue);
        float bound = (float) clipValue;
        boolean gradMode = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        try (NDScope scope = new NDScope()) {
            for (NDArray grad : definedGradients(params)) {
                // NDArray has no in-place clamp: clamp into a temporary and write it back over the gradient.
                grad.set(ALL, grad.clip(-bound, bound));
            }
        } finally {
            JniUtils.setGradMode(gradMode);
        }
    }

    private static List<NDArray> definedGradients(Collection<Parameter> params) {
        List<NDArray> grads = new ArrayList<>();
        for (Parameter param : params) {
            if (!param.isInitialized() || !param.requiresGradient()) {
                continue;
            }
            NDArray array = param.getArray();
            if (array instanceof PtNDArray && array.hasGradient()) {
                NDArray grad = JniUtils.getGradient((PtNDArray) array);
                if (grad != null) {
                    grads.add(grad);
                }
            }
        }
        return grads;
    }
}
