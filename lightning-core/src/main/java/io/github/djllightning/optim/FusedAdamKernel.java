package io.github.djllightning.optim;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.engine.PtNDArray;
import com.sun.jna.Function;
import com.sun.jna.Memory;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;
import io.github.djllightning.util.EngineFunctions;
import io.github.djllightning.util.EngineLibraries;
import io.github.djllightning.util.NativeTensors;
import java.util.List;

/**
 * The engine's multi-tensor Adam kernel, the one {@code torch.optim.Adam(fused=True)} runs on the CPU: one call
 * updates every parameter of a group, reading and writing each element once, instead of about ten whole-tensor
 * operations per parameter. Reached through the engine's library ({@code at::_ops::_fused_adam_::call} and
 * {@code _fused_adamw_}), which DJL does not expose.
 *
 * <p>The kernel raises native errors on tensors it cannot take, and a native error cannot cross into Java here, so
 * {@link #run} is only called with tensors checked beforehand: float32, on the CPU, dense and contiguous, each
 * gradient and state shaped like its weight. Only on Linux x86-64 (the calling convention {@link #run} is written
 * for); where the library or one of its functions cannot be found, or {@code -Ddjl.lightning.fusedAdam=false} is set,
 * {@link #isAvailable()} is false and Adam updates one parameter at a time.
 */
final class FusedAdamKernel {

    private static final String PROPERTY = "djl.lightning.fusedAdam";
    private static final String ADAM = "_ZN2at4_ops12_fused_adam_4callEN3c108ArrayRefINS_6TensorEEES5_S5_S5_S5_S5_"
            + "dddddbbRKSt8optionalIS4_ES9_";
    private static final String ADAMW = "_ZN2at4_ops13_fused_adamw_4callEN3c108ArrayRefINS_6TensorEEES5_S5_S5_S5_S5_"
            + "dddddbbRKSt8optionalIS4_ES9_";
    /** Float32 holds every whole number up to this exactly; the kernel reads the step count from a float tensor. */
    static final long MAX_EXACT_STEP = 1L << 24;

    private static final EngineFunctions<Natives> NATIVES =
            new EngineFunctions<>(PROPERTY, "Adam updates one tensor at a time", FusedAdamKernel::find);

    private FusedAdamKernel() {}

    private static final class Natives {
        final Function adam;
        final Function adamw;
        /** An empty {@code std::optional<at::Tensor>} (no gradient scale, no found-inf flag). */
        final Memory noTensor = new Memory(16);

        Natives(Function adam, Function adamw) {
            this.adam = adam;
            this.adamw = adamw;
            noTensor.clear();
        }
    }

    /**
     * Whether the kernel can be called in this process.
     *
     * @return true when the engine's library and its fused Adam functions were found
     */
    static boolean isAvailable() {
        return natives() != null;
    }

    /**
     * Whether the kernel can take these tensors: float32 on the CPU, contiguous, gradients and states shaped like
     * their weights.
     */
    static boolean accepts(List<NDArray> weights, List<NDArray> grads, List<ParamState> states) {
        Natives found = natives();
        if (found == null) {
            return false;
        }
        for (int i = 0; i < weights.size(); i++) {
            NDArray weight = weights.get(i);
            NDArray expAvg = states.get(i).tensor(AdamMath.EXP_AVG);
            NDArray expAvgSq = states.get(i).tensor(AdamMath.EXP_AVG_SQ);
            if (weight.getDataType() != DataType.FLOAT32 || !Device.Type.CPU.equals(weight.getDevice().getDeviceType())
                    || !like(weight, expAvg) || !like(weight, expAvgSq)) {
                return false;
            }
            // the engine checks that a gradient has its weight's shape, type and device
            if (!NativeTensors.isContiguous(weight) || !NativeTensors.isContiguous(grads.get(i))
                    || !NativeTensors.isContiguous(expAvg) || !NativeTensors.isContiguous(expAvgSq)) {
                return false;
            }
        }
        return true;
    }

    private static boolean like(NDArray weight, NDArray other) {
        return other != null && other.getDataType() == DataType.FLOAT32 && other.getDevice().equals(weight.getDevice())
                && other.getShape().equals(weight.getShape());
    }

    /**
     * One Adam (or AdamW) step over all the given parameters, as torch's fused kernel computes it, updating the
     * weights and the states' moments in place. The caller has checked the tensors with {@link #accepts} and counted
     * the step in every parameter's state.
     *
     * @param step the step number, the same for every parameter, at most {@link #MAX_EXACT_STEP}
     */
    static void run(List<NDArray> weights, List<NDArray> grads, List<ParamState> states, long step, double lr,
            double beta1, double beta2, double weightDecay, double eps, boolean maximize, boolean decoupled) {
        Natives found = natives();
        int n = weights.size();
        Buffers buffers = BUFFERS.get().forTensors(n);
        try (NDArray stepCount = weights.get(0).getManager().create((float) step)) {
            Pointer stepImpl = impl(stepCount);
            for (int i = 0; i < n; i++) {
                ParamState state = states.get(i);
                buffers.set(0, i, impl(weights.get(i)));
                buffers.set(1, i, impl(grads.get(i)));
                buffers.set(2, i, impl(state.tensor(AdamMath.EXP_AVG)));
                buffers.set(3, i, impl(state.tensor(AdamMath.EXP_AVG_SQ)));
                buffers.set(4, i, stepImpl); // every parameter reads the same step count
            }
            Function kernel = decoupled ? found.adamw : found.adam;
            // Each c10::ArrayRef<at::Tensor> argument (a pointer and a count, passed by value) is given as its two
            // words: on x86-64 a 16-byte struct of two integers travels exactly like two integer arguments, in
            // registers while two are free and on the stack after. The AMSGrad maxima list is empty.
            kernel.invokeVoid(new Object[] {buffers.list(0), (long) n, buffers.list(1), (long) n, buffers.list(2),
                (long) n, buffers.list(3), (long) n, Pointer.NULL, 0L, buffers.list(4), (long) n, lr, beta1, beta2,
                weightDecay, eps, (byte) 0, (byte) (maximize ? 1 : 0), found.noTensor, found.noTensor});
        }
    }

    /** The argument lists of one thread's calls, kept between steps so that a step allocates no native memory. */
    private static final ThreadLocal<Buffers> BUFFERS = ThreadLocal.withInitial(Buffers::new);

    private static final class Buffers {
        Memory tensors;
        int capacity;
        int size;

        /** Makes room for five lists of {@code n} tensors: weights, gradients, two moments, step counts. */
        Buffers forTensors(int n) {
            if (n > capacity) {
                if (tensors != null) {
                    tensors.close();
                }
                tensors = new Memory(8L * 5 * n);
                capacity = n;
            }
            size = n;
            return this;
        }

        /** Stores element {@code i} of list {@code index}. */
        void set(int index, int i, Pointer tensor) {
            tensors.setPointer(8L * (index * size + i), tensor);
        }

        /** The first element of list {@code index}. */
        Pointer list(int index) {
            return tensors.share(8L * index * size);
        }
    }

    /** A DJL handle points to an {@code at::Tensor}, whose only field is the pointer to its implementation. */
    private static Pointer impl(NDArray array) {
        return new Pointer(((PtNDArray) array).getHandle()).getPointer(0);
    }

    private static Natives natives() {
        return NATIVES.get();
    }

    private static Natives find() {
        NativeLibrary torch = EngineLibraries.loaded("libtorch_cpu");
        if (torch == null || !NativeTensors.contiguityCheckAvailable()) {
            return null; // no library, or the tensors could not be checked before the call
        }
        return new Natives(torch.getFunction(ADAM), torch.getFunction(ADAMW));
    }
}
