package io.github.djllightning.checkpoint;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;

/**
 * The program {@link CrashSafetyTest} starts in a separate JVM and kills: it writes checkpoints to {@code last.ckpt}
 * in the folder given, one generation after the other, forever.
 *
 * <p>Arguments: the folder, the first generation, and a time limit in milliseconds after which it stops on its own.
 * It also stops when its standard input closes, so that a dead parent never leaves it running.
 *
 * <p>Output, one line each, flushed at once: {@code READY} before the first write, {@code BEGIN <generation>} just
 * before a write starts and {@code WROTE <generation>} once {@link CheckpointWriter#write} has returned.
 */
public final class CheckpointWriterChild {

    /** The name of the file written. */
    static final String TARGET = "last.ckpt";
    /** Rows and columns of the large weight. */
    static final int SIZE = 1000;
    /** The large weight's name in {@code state_dict}. */
    static final String WEIGHT = "layer.weight";
    /** A small second weight in {@code state_dict}. */
    static final String BIAS = "layer.bias";
    /** A tensor in a second tensor group. */
    static final String MOMENTUM = "0.state.0.exp_avg";
    /** Generations per epoch, so that {@code epoch} is a function of the generation too. */
    static final long STEPS_PER_EPOCH = 10;

    private CheckpointWriterChild() {}

    /**
     * The value at one position of the large weight: the generation plus a position-dependent eighth, exact in
     * {@code float} for generations below 2^20, so that a file mixing two writes or shifting the bytes is caught.
     */
    static float weightValue(long generation, int index) {
        return generation + (index % 8) * 0.125f;
    }

    /** The value of every element of the bias. */
    static float biasValue(long generation) {
        return -generation;
    }

    /** The value of every element of the momentum. */
    static float momentumValue(long generation) {
        return generation * 0.5f;
    }

    /**
     * Runs the loop.
     *
     * @param args the folder, the first generation and the time limit in milliseconds
     */
    public static void main(String[] args) {
        if (args.length != 3) {
            System.err.println("usage: CheckpointWriterChild <folder> <first generation> <time limit ms>");
            System.exit(2);
        }
        Path target = Paths.get(args[0]).resolve(TARGET);
        long generation = Long.parseLong(args[1]);
        long limitMillis = Long.parseLong(args[2]);
        watch(limitMillis);
        PrintStream out = System.out;

        try (NDManager manager = NDManager.newBaseManager()) {
            float[] weight = new float[SIZE * SIZE];
            float[] bias = new float[SIZE];
            float[] momentum = new float[SIZE];
            // the engine is loaded by now, so the writes start right after this line
            manager.zeros(new Shape(1)).close();
            out.println("READY");
            out.flush();
            while (true) {
                for (int i = 0; i < weight.length; i++) {
                    weight[i] = weightValue(generation, i);
                }
                Arrays.fill(bias, biasValue(generation));
                Arrays.fill(momentum, momentumValue(generation));
                try (NDManager scope = manager.newSubManager()) {
                    Checkpoint checkpoint = new Checkpoint();
                    checkpoint.entries().put("format_version", Checkpoints.FORMAT_VERSION);
                    checkpoint.entries().put("epoch", generation / STEPS_PER_EPOCH);
                    checkpoint.entries().put("global_step", generation);
                    checkpoint.tensors("state_dict").put(WEIGHT, scope.create(weight, new Shape(SIZE, SIZE)));
                    checkpoint.tensors("state_dict").put(BIAS, scope.create(bias, new Shape(SIZE)));
                    checkpoint.tensors("optimizer_states").put(MOMENTUM, scope.create(momentum, new Shape(SIZE)));
                    out.println("BEGIN " + generation);
                    out.flush();
                    CheckpointWriter.write(checkpoint, target);
                }
                out.println("WROTE " + generation);
                out.flush();
                generation++;
            }
        }
    }

    /** Stops the JVM when the time limit passes or when standard input reaches its end (the parent is gone). */
    private static void watch(long limitMillis) {
        Thread timer = new Thread(() -> {
            try {
                Thread.sleep(limitMillis);
            } catch (InterruptedException e) {
                return;
            }
            System.err.println("CheckpointWriterChild: time limit of " + limitMillis + " ms reached, stopping");
            Runtime.getRuntime().halt(3);
        }, "child-time-limit");
        timer.setDaemon(true);
        timer.start();
        Thread stdin = new Thread(() -> {
            try {
                while (System.in.read() != -1) {
                    // nothing is sent; only the end matters
                }
            } catch (IOException e) {
                // treated as the end
            }
            Runtime.getRuntime().halt(4);
        }, "child-stdin-watch");
        stdin.setDaemon(true);
        stdin.start();
    }
}
