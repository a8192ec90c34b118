package io.github.djllightning.testing;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.training.dataset.ArrayDataset;
import io.github.djllightning.data.DataLoader;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.trainer.Trainer;
import io.github.djllightning.trainer.TrainerConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Quiet Trainers and small, identifiable data for behaviour tests. */
public final class TestTrainers {

    private TestTrainers() {}

    /**
     * A Trainer builder with no progress bar, no model summary, no checkpointing and no logger, writing (if at all)
     * under {@code root}.
     *
     * @param root a temporary folder
     * @return the builder
     */
    public static TrainerConfig.Builder<Trainer> quiet(Path root) {
        return Trainer.builder()
                .defaultRootDir(root)
                .enableProgressBar(false)
                .enableModelSummary(false)
                .enableCheckpointing(false)
                .logger(false);
    }

    /**
     * A loader of {@code rows} rows of 32 floats where every element of row {@code i} equals {@code i}, so a batch
     * tells which rows it holds.
     *
     * @param manager owns the data
     * @param rows the number of rows
     * @param batchSize the batch size (the last batch is smaller when it does not divide)
     * @param shuffle whether the loader shuffles
     * @return the loader
     */
    public static DataLoader indexed(NDManager manager, int rows, int batchSize, boolean shuffle) {
        NDArray x = manager.arange(0f, (float) rows).reshape(rows, 1).repeat(1, 32);
        return DataLoader.of(new ArrayDataset.Builder().setData(x).setSampling(batchSize, false).build())
                .batchSize(batchSize)
                .shuffle(shuffle)
                .seed(7)
                .build();
    }

    /**
     * A copy of every parameter's values, on the host.
     *
     * @param module the module
     * @return one float array per parameter, in {@link LightningModule#parameters()} order
     */
    public static List<float[]> weights(LightningModule module) {
        List<float[]> out = new ArrayList<>();
        for (Parameter parameter : module.parameters()) {
            out.add(parameter.getArray().toFloatArray());
        }
        return out;
    }

    /**
     * Every parameter's gradient, on the host, flattened into one array.
     *
     * @param module the module
     * @return the concatenated gradients
     */
    public static float[] gradients(LightningModule module) {
        List<float[]> parts = new ArrayList<>();
        int size = 0;
        for (Parameter parameter : module.parameters()) {
            float[] g = parameter.getArray().getGradient().toFloatArray();
            parts.add(g);
            size += g.length;
        }
        float[] all = new float[size];
        int at = 0;
        for (float[] g : parts) {
            System.arraycopy(g, 0, all, at, g.length);
            at += g.length;
        }
        return all;
    }

    /**
     * Whether two weight snapshots are equal element by element.
     *
     * @param a one snapshot
     * @param b the other
     * @return true when equal
     */
    public static boolean sameWeights(List<float[]> a, List<float[]> b) {
        if (a.size() != b.size()) {
            return false;
        }
        for (int i = 0; i < a.size(); i++) {
            if (!Arrays.equals(a.get(i), b.get(i))) {
                return false;
            }
        }
        return true;
    }

    /**
     * Runs an action and returns what it printed to standard error (where the test logging binding writes).
     *
     * @param action the action
     * @return the captured text
     */
    public static String capturingStderr(Runnable action) {
        java.io.PrintStream previous = System.err;
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        System.setErr(new java.io.PrintStream(bytes, true, java.nio.charset.StandardCharsets.UTF_8));
        try {
            action.run();
        } finally {
            System.setErr(previous);
        }
        return bytes.toString(java.nio.charset.StandardCharsets.UTF_8);
    }
}
