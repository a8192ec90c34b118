package io.github.djllightning.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import io.github.djllightning.checkpoint.StateDict;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/** Builds real DJL parameters and gradients for the optimizer tests. */
final class OptimTestSupport {

    private OptimTestSupport() {}

    /** A trainable float32 parameter holding {@code values}. */
    static Parameter param(NDManager manager, String name, Shape shape, float... values) {
        Parameter param = Parameter.builder().setName(name).setType(Parameter.Type.WEIGHT).optShape(shape).build();
        param.setInitializer((m, s, type) -> m.create(values, s));
        param.initialize(manager, DataType.FLOAT32);
        return param;
    }

    /** A parameter with the same name, shape and values as {@code source}, independent of it. */
    static Parameter copyOf(NDManager manager, Parameter source) {
        return param(manager, source.getName(), source.getArray().getShape(), values(source));
    }

    static float[] values(Parameter param) {
        return param.getArray().toFloatArray();
    }

    /** The parameter's current gradient, read to the host (test only); also works once the parameter is frozen. */
    static float[] grad(Parameter param) {
        try (NDArray grad = JniUtils.getGradient((PtNDArray) param.getArray())) {
            return grad.toFloatArray();
        }
    }

    /**
     * Runs a real backward pass of {@code loss} over the given parameters' arrays. Every array of the forward pass is
     * closed afterwards.
     */
    static void backward(List<Parameter> params, Function<List<NDArray>, NDArray> loss) {
        List<NDArray> arrays = new ArrayList<>();
        for (Parameter param : params) {
            arrays.add(param.getArray());
        }
        try (NDScope scope = new NDScope();
                GradientCollector collector = Engine.getInstance().newGradientCollector()) {
            collector.backward(loss.apply(arrays));
        }
    }

    /** Backward of {@code sum(a * w^2 + b * w)}: the gradient {@code 2a*w + b} depends on the weights. */
    static void quadraticBackward(Parameter param, float[] a, float[] b) {
        backward(List.of(param), w -> {
            NDArray weight = w.get(0);
            NDArray aa = weight.getManager().create(a, weight.getShape());
            NDArray bb = weight.getManager().create(b, weight.getShape());
            return weight.square().mul(aa).add(weight.mul(bb)).sum();
        });
    }

    /** Backward of {@code sum(c * w)}: the gradient is exactly {@code c}. */
    static void linearBackward(Parameter param, float... c) {
        backward(List.of(param), w -> {
            NDArray weight = w.get(0);
            return weight.mul(weight.getManager().create(c, weight.getShape())).sum();
        });
    }

    static double[] toDoubles(float[] values) {
        double[] result = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            result[i] = values[i];
        }
        return result;
    }

    /** Float32 weights against a double reference: within 1e-6 relative (absolute below 1). */
    static void assertClose(float[] actual, double[] expected, String what) {
        assertThat(actual).as(what).hasSize(expected.length);
        for (int i = 0; i < expected.length; i++) {
            double tolerance = 1e-6 * Math.max(1, Math.abs(expected[i]));
            assertThat((double) actual[i]).as(what + "[" + i + "]").isCloseTo(expected[i], within(tolerance));
        }
    }

    /**
     * Deep-copies the plain values as they come back from JSON: every number a Double, every list an ArrayList,
     * every map a LinkedHashMap; tensors are duplicated into {@code manager}, so the copy shares nothing.
     */
    static StateDict asIfReadBack(StateDict state, NDManager manager) {
        Map<String, NDArray> tensors = new LinkedHashMap<>();
        state.tensors().forEach((name, tensor) -> {
            NDArray copy = manager.create(tensor.toFloatArray(), tensor.getShape());
            tensors.put(name, copy);
        });
        @SuppressWarnings("unchecked")
        Map<String, Object> values = (Map<String, Object>) jsonLike(state.values());
        return new StateDict(values, tensors);
    }

    private static Object jsonLike(Object value) {
        if (value instanceof Number) {
            return ((Number) value).doubleValue();
        }
        if (value instanceof List) {
            List<Object> list = new ArrayList<>();
            for (Object element : (List<?>) value) {
                list.add(jsonLike(element));
            }
            return list;
        }
        if (value instanceof Map) {
            Map<String, Object> map = new LinkedHashMap<>();
            ((Map<?, ?>) value).forEach((k, v) -> map.put(String.valueOf(k), jsonLike(v)));
            return map;
        }
        return value;
    }
}
