package io.github.djllightning.module;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import com.sun.jna.Function;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;
import io.github.djllightning.util.EngineFunctions;
import io.github.djllightning.util.EngineLibraries;

/**
 * Loss functions as PyTorch's {@code torch.nn.functional} computes them, for a {@code trainingStep}.
 *
 * <p>{@link #mse} runs the engine's own {@code mse_loss} kernel, one operation forward and one backward, where the
 * same loss written with DJL's operations ({@code prediction.sub(target).square().mean()}) takes three of each and
 * three temporary tensors of the prediction's size; at batch 256 of MNIST images that is about half a millisecond
 * per step. Where the kernel cannot be reached (not Linux on x86-64, other engines, {@code
 * -Ddjl.lightning.fusedLosses=false}), or the arrays do not fit it, the DJL operations compute the same value.
 */
public final class Losses {

    private static final String PROPERTY = "djl.lightning.fusedLosses";
    /** {@code at::_ops::mse_loss::call(const at::Tensor&, const at::Tensor&, int64_t reduction)}. */
    private static final String MSE_LOSS = "_ZN2at4_ops8mse_loss4callERKNS_6TensorES4_l";
    /** {@code operator new(size_t)}, whose memory DJL's tensor handles are freed with. */
    private static final String OPERATOR_NEW = "_Znwm";
    /** {@code at::Reduction::Mean}. */
    private static final long MEAN = 1;
    /** The size of an {@code at::Tensor}: one pointer to its implementation. */
    private static final long TENSOR_SIZE = 8;

    private static final EngineFunctions<Kernel> KERNEL =
            new EngineFunctions<>(PROPERTY, "losses use DJL's operations", Losses::find);

    private Losses() {}

    private static final class Kernel {
        final Function mseLoss;
        final Function operatorNew;

        Kernel(Function mseLoss, Function operatorNew) {
            this.mseLoss = mseLoss;
            this.operatorNew = operatorNew;
        }
    }

    /**
     * The mean squared error, {@code mean((prediction - target)²)}: PyTorch's {@code F.mse_loss(prediction,
     * target)}. Gradients flow to whichever of the two records them.
     *
     * @param prediction the model's output
     * @param target what it should have been, of the same shape (other shapes are broadcast, as DJL's operations do)
     * @return a scalar array, on the prediction's manager
     */
    public static NDArray mse(NDArray prediction, NDArray target) {
        Kernel found = kernel();
        if (found == null || !fits(prediction, target)) {
            return prediction.sub(target).square().mean();
        }
        // The operation returns its tensor by value: on x86-64 the caller passes the memory for it as a hidden first
        // argument. That memory comes from operator new, so that DJL's handle, freed with delete, owns it.
        Pointer result = found.operatorNew.invokePointer(new Object[] {TENSOR_SIZE});
        found.mseLoss.invokePointer(new Object[] {result, new Pointer(((PtNDArray) prediction).getHandle()),
            new Pointer(((PtNDArray) target).getHandle()), MEAN});
        return new PtNDArray((PtNDManager) prediction.getManager(), Pointer.nativeValue(result));
    }

    /**
     * Whether the engine's kernel takes these arrays without raising a native error (which could not be caught
     * here): PyTorch arrays of the same floating type, shape and device, both dense.
     */
    private static boolean fits(NDArray prediction, NDArray target) {
        if (!(prediction instanceof PtNDArray) || !(target instanceof PtNDArray)
                || !(prediction.getManager() instanceof PtNDManager)) {
            return false;
        }
        DataType type = prediction.getDataType();
        return (type == DataType.FLOAT32 || type == DataType.FLOAT64)
                && target.getDataType() == type
                && prediction.getShape().equals(target.getShape())
                && prediction.getDevice().equals(target.getDevice())
                && !prediction.isSparse()
                && !target.isSparse();
    }

    /** Whether the engine's loss kernels are used in this process. */
    static boolean usesEngineKernels() {
        return kernel() != null;
    }

    private static Kernel kernel() {
        return KERNEL.get();
    }

    private static Kernel find() {
        NativeLibrary torch = EngineLibraries.loaded("libtorch_cpu");
        NativeLibrary cxx = EngineLibraries.loaded("libstdc++");
        if (torch == null || cxx == null) {
            return null;
        }
        return new Kernel(torch.getFunction(MSE_LOSS), cxx.getFunction(OPERATOR_NEW));
    }
}
