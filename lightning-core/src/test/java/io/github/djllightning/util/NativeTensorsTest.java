package io.github.djllightning.util;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.FloatBuffer;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class NativeTensorsTest {

    private NDManager manager;

    @BeforeEach
    void open() {
        EngineSetup.preferOffline();
        manager = NDManager.newBaseManager();
    }

    @AfterEach
    void close() {
        manager.close();
    }

    /** On Linux x86-64 (where the tests run) the direct read is found; elsewhere it is meant to be absent. */
    private static void assumeDirectReads() {
        assumeTrue(EngineLibraries.isX86() && System.getProperty("os.name").startsWith("Linux"),
                "the direct read is only looked for on Linux x86-64");
    }

    @Test
    void directReadIsAvailableOnThisPlatform() {
        assumeDirectReads();
        assertThat(NativeTensors.contiguityCheckAvailable()).isTrue();
        assertThat(NativeTensors.firstFloat(manager.create(3.25f))).isEqualTo(3.25f);
    }

    @Test
    void directReadGivesTheFirstElementExactly() {
        assumeDirectReads();
        float[] specials = {0f, -0f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.MIN_VALUE,
            -Float.MAX_VALUE, 1e-40f};
        for (float value : specials) {
            Float read = NativeTensors.firstFloat(manager.create(value));
            assertThat(Float.floatToRawIntBits(read)).as("value %s", value).isEqualTo(Float.floatToRawIntBits(value));
        }
        Random random = new Random(7);
        for (int i = 0; i < 50; i++) {
            float[] values = new float[1 + random.nextInt(40)];
            for (int j = 0; j < values.length; j++) {
                values[j] = (float) random.nextGaussian() * 1e3f;
            }
            NDArray array = manager.create(values, new Shape(values.length));
            assertThat(NativeTensors.firstFloat(array)).isEqualTo(array.toFloatArray()[0]);
            // a computed result, as the loss of a step is
            NDArray mean = array.square().mean();
            assertThat(NativeTensors.firstFloat(mean)).isEqualTo(mean.toFloatArray()[0]);
        }
    }

    @Test
    void aViewThatStartsInsideItsStorageReadsItsOwnFirstElement() {
        assumeDirectReads();
        NDArray view = manager.arange(0f, 6f).get("2:");
        assertThat(NativeTensors.firstFloat(view)).isEqualTo(2f);
        assertThat(HostScalars.read(view)).isEqualTo(2.0);
    }

    @Test
    void whatCannotBeReadDirectlyFallsBackToTheEngineCopy() {
        // not contiguous: a transposed matrix
        NDArray transposed = manager.arange(1f, 7f).reshape(2, 3).transpose();
        assertThat(NativeTensors.firstFloat(transposed)).isNull();
        assertThat(HostScalars.read(transposed)).isEqualTo(1.0);
        // not float32
        NDArray doubles = manager.create(new double[] {2.5, 1});
        assertThat(NativeTensors.firstFloat(doubles)).isNull();
        assertThat(HostScalars.read(doubles)).isEqualTo(2.5);
        NDArray ints = manager.create(new int[] {4, 5});
        assertThat(NativeTensors.firstFloat(ints)).isNull();
        assertThat(HostScalars.read(ints)).isEqualTo(4.0);
        // sparse: the engine's contiguity test fails on it, so it is never handed to libtorch's pointer function
        NDArray sparse = manager.createCoo(FloatBuffer.wrap(new float[] {9f}), new long[][] {{0}}, new Shape(3));
        assertThat(NativeTensors.firstFloat(sparse)).isNull();
        assertThat(HostScalars.read(sparse)).isEqualTo(9.0);
        // empty: libtorch's pointer is not null but points to no element, so it must not be read
        assertThat(NativeTensors.firstFloat(manager.create(new float[0]))).isNull();
        assertThat(NativeTensors.firstFloat(manager.zeros(new Shape(0), DataType.FLOAT32))).isNull();
    }
}
