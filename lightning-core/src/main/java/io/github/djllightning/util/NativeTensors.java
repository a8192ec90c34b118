package io.github.djllightning.util;

import ai.djl.Device;
import ai.djl.engine.EngineException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.engine.PtNDArray;
import com.sun.jna.Function;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.reflect.Field;
import java.lang.reflect.Method;

/**
 * Two engine functions that DJL's public API does not offer, for code that runs on every training step: DJL's own
 * contiguity test of a tensor, and libtorch's pointer to a float tensor's first element.
 *
 * <p>A native error cannot cross into Java through JNA, so the pointer is only asked for tensors that cannot make
 * libtorch throw: float32, on the CPU, dense and contiguous (checked with DJL's test, which turns libtorch's error on a
 * sparse or opaque tensor into an {@link EngineException}). Linux x86-64 only; where a function cannot be found, or
 * {@code -Ddjl.lightning.nativeReads=false} is set, {@link #firstFloat} answers null and callers keep to DJL's API.
 */
public final class NativeTensors {

    private static final String PROPERTY = "djl.lightning.nativeReads";
    /** {@code at::TensorBase::const_data_ptr<float>() const}. */
    private static final String CONST_FLOAT_PTR = "_ZNK2at10TensorBase14const_data_ptrIfLi0EEEPKT_v";

    private NativeTensors() {}

    /** DJL's {@code torchIsContiguous(long)} bound to its library object: {@code (long) -> boolean}, or null. */
    private static final MethodHandle IS_CONTIGUOUS = contiguityCheck();

    private static final EngineFunctions<Function> CONST_FLOAT_PTR_FUNCTION =
            new EngineFunctions<>(PROPERTY, "host reads copy through DJL", NativeTensors::findConstFloatPtr);

    /**
     * Whether DJL's contiguity test could be reached.
     *
     * @return true when {@link #isContiguous} asks the engine
     */
    public static boolean contiguityCheckAvailable() {
        return IS_CONTIGUOUS != null;
    }

    /**
     * Whether the array is a dense, contiguous tensor; false for a sparse or opaque one (the engine's test fails on
     * those), for arrays of other engines and where the test cannot be reached.
     *
     * @param array an array
     * @return true for a dense, contiguous PyTorch tensor
     */
    public static boolean isContiguous(NDArray array) {
        if (IS_CONTIGUOUS == null || !(array instanceof PtNDArray)) {
            return false;
        }
        long handle = ((PtNDArray) array).getHandle();
        try {
            return (boolean) IS_CONTIGUOUS.invokeExact(handle);
        } catch (EngineException e) {
            return false; // not a dense tensor
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException("the engine's contiguity check failed", e);
        }
    }

    /**
     * Reads the first element of a float32 CPU tensor straight from its memory: one call into libtorch for the
     * pointer, instead of DJL's copy into a new Java array. About half the cost of {@code toByteBuffer} on a freshly
     * computed loss (measured in the training loop: 2.0 vs 3.7-4.1 us a step for the two reads of the loss).
     *
     * @param array an array
     * @return its first element, or null when the array is not a dense, contiguous, non-empty float32 CPU tensor or
     *     the function is not available
     */
    public static Float firstFloat(NDArray array) {
        Function function = CONST_FLOAT_PTR_FUNCTION.get();
        // an empty tensor's pointer is not null but points to no element of it
        if (function == null || array.getDataType() != DataType.FLOAT32 || array.size() == 0
                || !Device.Type.CPU.equals(array.getDevice().getDeviceType()) || !isContiguous(array)) {
            return null;
        }
        Pointer data = function.invokePointer(new Object[] {new Pointer(((PtNDArray) array).getHandle())});
        return data == null ? null : data.getFloat(0);
    }

    private static Function findConstFloatPtr() {
        NativeLibrary torch = EngineLibraries.loaded("libtorch_cpu");
        return torch == null || IS_CONTIGUOUS == null ? null : torch.getFunction(CONST_FLOAT_PTR);
    }

    private static MethodHandle contiguityCheck() {
        try {
            Class<?> library = Class.forName("ai.djl.pytorch.jni.PyTorchLibrary");
            Field instance = EngineFields.find(library, "LIB", library);
            if (instance == null) {
                return null;
            }
            Method check = library.getDeclaredMethod("torchIsContiguous", long.class);
            check.setAccessible(true);
            // a bound method handle: called per tensor per step, without the boxing and checks of Method.invoke
            return MethodHandles.lookup().unreflect(check).bindTo(instance.get(null));
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            return null;
        }
    }
}
