package io.github.djllightning.util;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.dataset.Batch;
import io.github.djllightning.data.DataLoader;
import io.github.djllightning.testing.BoringModule;
import io.github.djllightning.testing.TestTrainers;
import io.github.djllightning.trainer.Trainer;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DenormalsTest {

    /** Float's smallest normal number: a quarter of it is a denormal, or zero where denormals are flushed. */
    private static final float SMALLEST_NORMAL = Float.MIN_NORMAL;

    @TempDir
    Path root;

    private NDManager manager;

    @BeforeEach
    void setUp() {
        assumeTrue(System.getProperty("os.name").startsWith("Linux"), "flushing goes through /proc/self/maps");
        EngineSetup.engine();
        manager = NDManager.newBaseManager();
    }

    @AfterEach
    void tearDown() {
        if (manager != null) {
            manager.close();
        }
    }

    /** How many elements of a computation that yields denormals came out non-zero, on the calling thread. */
    private static long denormalsProduced(NDManager manager, int size) {
        try (NDArray smallest = manager.full(new Shape(size), SMALLEST_NORMAL);
                NDArray quarter = smallest.div(4f);
                NDArray nonZero = quarter.countNonzero()) {
            return nonZero.getLong();
        }
    }

    @Test
    void aScopeFlushesOnItsThreadUntilTheOutermostExit() {
        assertThat(Denormals.isFlushing()).isFalse();
        assertThat(denormalsProduced(manager, 8)).isEqualTo(8);

        assertThat(Denormals.enter()).isTrue();
        assertThat(Denormals.isRequested()).isTrue();
        assertThat(denormalsProduced(manager, 8)).isZero();
        assertThat(Denormals.enter()).isTrue();
        Denormals.exit();
        assertThat(Denormals.isFlushing()).as("an inner exit keeps the outer scope's setting").isTrue();
        Denormals.exit();

        assertThat(Denormals.isFlushing()).isFalse();
        assertThat(Denormals.isRequested()).isFalse();
        assertThat(denormalsProduced(manager, 8)).isEqualTo(8);
        assertThatThrownBy(Denormals::exit).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("without a matching enter()");
    }

    @Test
    void theEngineWorkerThreadsFlushToo() {
        int threads = JniUtils.getNumThreads();
        JniUtils.setNumThreads(2);
        try {
            int size = 1 << 22; // large enough for the engine to split the work between its threads
            assertThat(denormalsProduced(manager, size)).isEqualTo(size);
            Denormals.enter();
            try {
                assertThat(denormalsProduced(manager, size)).isZero();
            } finally {
                Denormals.exit();
            }
            assertThat(denormalsProduced(manager, size)).isEqualTo(size);
        } finally {
            JniUtils.setNumThreads(threads);
        }
    }

    @Test
    void theTrainerFlushesWhileItRunsAndOnItsLoadersPrefetchThreads() {
        List<Long> inStep = new CopyOnWriteArrayList<>();
        List<Boolean> onLoaderThread = new CopyOnWriteArrayList<>();
        BoringModule module = new BoringModule() {
            @Override
            public Object trainingStep(Batch batch, int batchIdx) {
                inStep.add(denormalsProduced(batch.getManager(), 4));
                return super.trainingStep(batch, batchIdx);
            }
        };
        Trainer trainer = TestTrainers.quiet(root).maxEpochs(1).build();
        trainer.fit(module, loader(onLoaderThread));
        assertThat(inStep).hasSize(3).containsOnly(0L);
        assertThat(onLoaderThread).hasSize(3).containsOnly(true);
        assertThat(Denormals.isFlushing()).as("switched off again after the fit").isFalse();

        inStep.clear();
        onLoaderThread.clear();
        Trainer ieee = TestTrainers.quiet(root).maxEpochs(1).flushDenormals(false).build();
        assertThat(ieee.config().hardware().flushDenormals()).isFalse();
        ieee.fit(module, loader(onLoaderThread));
        assertThat(inStep).hasSize(3).containsOnly(4L);
        assertThat(onLoaderThread).hasSize(3).containsOnly(false);
        module.close();
    }

    /** Three batches made on the loader's prefetch thread, each noting whether that thread flushes denormals. */
    private DataLoader loader(List<Boolean> flushing) {
        Iterable<Batch> batches = () -> new Iterator<>() {
            private int made;

            @Override
            public boolean hasNext() {
                return made < 3;
            }

            @Override
            public Batch next() {
                made++;
                flushing.add(Denormals.isFlushing());
                NDManager batchManager = manager.newSubManager();
                NDList data = new NDList(batchManager.ones(new Shape(2, 32)));
                return new Batch(batchManager, data, new NDList(), 2, null, null, made - 1, 3);
            }
        };
        return DataLoader.of(batches).prefetch(2).build();
    }

    @Test
    void theTrainerFlushesByDefault() {
        assertThat(Trainer.builder().build().config().hardware().flushDenormals()).isTrue();
    }
}
