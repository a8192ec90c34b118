package io.github.djllightning.callback;

import ai.djl.nn.Block;
import ai.djl.nn.BlockList;
import ai.djl.nn.ParallelBlock;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.dataset.Batch;
import io.github.djllightning.checkpoint.ParameterNames;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.trainer.Trainer;
import java.io.PrintStream;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Prints a table of the module's layers with their parameter counts when fit starts. Lightning's {@code ModelSummary}.
 *
 * <pre>
 *   | Name    | Type            | Params | Mode
 * -------------------------------------------------
 * 0 | encoder | SequentialBlock | 50.4 K | train
 * 1 | decoder | SequentialBlock | 51.2 K | train
 * -------------------------------------------------
 * 101 K     Trainable params
 * 0         Non-trainable params
 * 101 K     Total params
 * 0.407     Total estimated model params size (MB)
 * 9         Modules in train mode
 * 0         Modules in eval mode
 * </pre>
 *
 * <p>Layer names follow PyTorch: a child added to a module or block by name keeps that name ({@code encoder}), the
 * layers of a {@link SequentialBlock} or {@link ParallelBlock} are numbered from 0, and deeper levels are joined with
 * dots ({@code encoder.0}). Parameters are trainable when they require gradients; the size assumes 4 bytes each.
 *
 * <p>DJL creates most parameters on the first forward pass. When some parameter's shape is still unknown at fit start,
 * the summary waits: it is printed when training starts (after the sanity check, which usually creates them), or at
 * the latest after the first training batch. It is printed once per fit, above the progress bar.
 */
public class ModelSummary implements Callback {

    private static final String[] UNITS = {"", "K", "M", "B", "T"};
    private static final double[] SCALES = {1, 1e-3, 1e-6, 1e-9, 1e-12};
    private static final double BYTES_PER_PARAMETER = 4;

    private final int maxDepth;
    private final PrintStream out;
    private boolean pending;

    /** Creates a summary of the module's direct layers. */
    public ModelSummary() {
        this(1);
    }

    /**
     * Creates a summary.
     *
     * @param maxDepth how many levels of layers to list: 1 for the module's direct layers, -1 for all, 0 to print
     *     nothing
     */
    public ModelSummary(int maxDepth) {
        this(maxDepth, null);
    }

    /** Creates a summary printing to the given stream (null: standard output, or above the progress bar). */
    ModelSummary(int maxDepth, PrintStream out) {
        if (maxDepth < -1) {
            throw new IllegalArgumentException(
                    "ModelSummary maxDepth must be -1 (all levels), 0 (off) or positive, got " + maxDepth);
        }
        this.maxDepth = maxDepth;
        this.out = out;
    }

    /** How many levels of layers are listed (-1: all, 0: none). */
    public int maxDepth() {
        return maxDepth;
    }

    @Override
    public void onFitStart(Trainer trainer, LightningModule module) {
        pending = false;
        if (maxDepth == 0) {
            return;
        }
        Summary summary = summarize(module, maxDepth);
        if (summary.isComplete()) {
            emit(trainer, summary);
        } else {
            pending = true;
        }
    }

    @Override
    public void onTrainStart(Trainer trainer, LightningModule module) {
        if (pending) {
            Summary summary = summarize(module, maxDepth);
            if (summary.isComplete()) {
                pending = false;
                emit(trainer, summary);
            }
        }
    }

    @Override
    public void onTrainBatchEnd(
            Trainer trainer, LightningModule module, Map<String, Object> outputs, Batch batch, int batchIdx) {
        if (pending) {
            pending = false;
            emit(trainer, summarize(module, maxDepth));
        }
    }

    @Override
    public void onFitEnd(Trainer trainer, LightningModule module) {
        pending = false;
    }

    private void emit(Trainer trainer, Summary summary) {
        String table = summary.toString();
        if (out != null) {
            out.println(table);
            return;
        }
        ProgressBar bar = trainer == null ? null : trainer.progressBar();
        if (bar != null && bar.isEnabled()) {
            bar.print(table);
        } else {
            System.out.println(table);
        }
    }

    /**
     * Summarizes a module: its layers down to a depth, with parameter counts. Works without a Trainer.
     *
     * @param module the module
     * @param maxDepth levels of layers to list: 1 for the direct layers, -1 for all, 0 for none (totals only)
     * @return the summary; {@link Summary#toString()} is the printed table
     */
    public static Summary summarize(LightningModule module, int maxDepth) {
        Objects.requireNonNull(module, "module");
        if (maxDepth < -1) {
            throw new IllegalArgumentException(
                    "maxDepth must be -1 (all levels), 0 (none) or positive, got " + maxDepth);
        }
        String mode = module.isTraining() ? "train" : "eval";
        List<Row> rows = new ArrayList<>();
        if (maxDepth != 0) {
            listChildren(module, "", 1, maxDepth, mode, rows);
        }
        Counts totals = count(module);
        int modules = countBlocks(module);
        return new Summary(rows, totals.trainable, totals.frozen, totals.unknown, module.isTraining(), modules);
    }

    private static void listChildren(Block parent, String prefix, int depth, int maxDepth, String mode, List<Row> rows) {
        BlockList children = parent.getChildren();
        boolean numbered = parent instanceof SequentialBlock || parent instanceof ParallelBlock;
        for (int i = 0; i < children.size(); i++) {
            Block child = children.valueAt(i);
            String local = numbered ? Integer.toString(i) : ParameterNames.childName(children.keyAt(i), i);
            String name = prefix.isEmpty() ? local : prefix + "." + local;
            Counts counts = count(child);
            rows.add(new Row(name, typeName(child), counts.trainable + counts.frozen, counts.trainable, mode));
            if (maxDepth == -1 || depth < maxDepth) {
                listChildren(child, name, depth + 1, maxDepth, mode, rows);
            }
        }
    }

    private static String typeName(Block block) {
        String simple = block.getClass().getSimpleName();
        if (!simple.isEmpty()) {
            return simple;
        }
        String name = block.getClass().getName();
        return name.substring(name.lastIndexOf('.') + 1);
    }

    private static int countBlocks(Block block) {
        int count = 1;
        for (Block child : block.getChildren().values()) {
            count += countBlocks(child);
        }
        return count;
    }

    private static Counts count(Block block) {
        Set<Parameter> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        collect(block, seen);
        Counts counts = new Counts();
        for (Parameter parameter : seen) {
            long size = size(parameter);
            if (size < 0) {
                counts.unknown++;
            } else if (parameter.requiresGradient()) {
                counts.trainable += size;
            } else {
                counts.frozen += size;
            }
        }
        return counts;
    }

    private static void collect(Block block, Set<Parameter> into) {
        into.addAll(block.getDirectParameters().values());
        for (Block child : block.getChildren().values()) {
            collect(child, into);
        }
    }

    /** The number of elements of a parameter, or -1 while its shape is unknown. */
    private static long size(Parameter parameter) {
        Shape shape = parameter.isInitialized() ? parameter.getArray().getShape() : parameter.getShape();
        if (shape == null) {
            return -1;
        }
        for (long dim : shape.getShape()) {
            if (dim < 0) {
                return -1;
            }
        }
        return shape.size();
    }

    /**
     * Abbreviates a count as Lightning does: {@code 950}, {@code 50.4 K}, {@code 101 K}, {@code 1.2 M}, {@code 3.4 B};
     * one decimal below 100 of a unit, none from 100 on.
     *
     * @param count a count, at least 0
     * @return the abbreviation
     */
    static String humanCount(long count) {
        if (count < 0) {
            return "?";
        }
        int digits = Long.toString(count).length();
        int unit = Math.min((digits + 2) / 3, UNITS.length) - 1;
        double scaled = count * SCALES[unit];
        if (unit == 0) {
            return String.format(Locale.ROOT, "%,d", count);
        }
        if (scaled >= 100) {
            return String.format(Locale.ROOT, "%,d %s", (long) scaled, UNITS[unit]);
        }
        return new BigDecimal(scaled).setScale(1, RoundingMode.HALF_EVEN).toPlainString() + " " + UNITS[unit];
    }

    /** Formats megabytes with 3 decimals and thousands separators. */
    static String megabytes(double value) {
        return String.format(Locale.ROOT, "%,.3f", new BigDecimal(value).setScale(3, RoundingMode.HALF_EVEN));
    }

    /** Parameter counts of a subtree. */
    private static final class Counts {
        long trainable;
        long frozen;
        int unknown;
    }

    /**
     * One listed layer.
     *
     * @param name the dotted name, e.g. {@code encoder.0}
     * @param type the block's simple class name
     * @param params the number of parameter elements in the layer and its sub-layers (known shapes only)
     * @param trainableParams how many of them require gradients
     * @param mode {@code train} or {@code eval}
     */
    public record Row(String name, String type, long params, long trainableParams, String mode) {

        /** The parameter elements that do not require gradients. */
        public long nonTrainableParams() {
            return params - trainableParams;
        }
    }

    /** An immutable summary of a module; {@link #toString()} is the table that {@link ModelSummary} prints. */
    public static final class Summary {

        private final List<Row> rows;
        private final long trainable;
        private final long nonTrainable;
        private final int unknownParameters;
        private final boolean training;
        private final int modules;

        Summary(List<Row> rows, long trainable, long nonTrainable, int unknownParameters, boolean training,
                int modules) {
            this.rows = List.copyOf(rows);
            this.trainable = trainable;
            this.nonTrainable = nonTrainable;
            this.unknownParameters = unknownParameters;
            this.training = training;
            this.modules = modules;
        }

        /** The listed layers, in depth-first order. */
        public List<Row> rows() {
            return rows;
        }

        /** Parameter elements that require gradients. */
        public long trainableParams() {
            return trainable;
        }

        /** Parameter elements that do not require gradients. */
        public long nonTrainableParams() {
            return nonTrainable;
        }

        /** All parameter elements (each shared parameter once). */
        public long totalParams() {
            return trainable + nonTrainable;
        }

        /** The estimated size of the parameters in megabytes, at 4 bytes each. */
        public double sizeMb() {
            return totalParams() * BYTES_PER_PARAMETER / 1e6;
        }

        /** How many parameters have no shape yet (DJL creates them on the first forward pass); they count as 0. */
        public int unknownParameters() {
            return unknownParameters;
        }

        /** Whether every parameter's shape is known, so the counts are final. */
        public boolean isComplete() {
            return unknownParameters == 0;
        }

        /** Blocks (the module included) in training mode. */
        public int trainModeModules() {
            return training ? modules : 0;
        }

        /** Blocks (the module included) in evaluation mode. */
        public int evalModeModules() {
            return training ? 0 : modules;
        }

        /** The table: one line per layer, then the totals. */
        @Override
        public String toString() {
            List<String[]> columns = new ArrayList<>();
            columns.add(new String[] {" "});
            columns.add(new String[] {"Name"});
            columns.add(new String[] {"Type"});
            columns.add(new String[] {"Params"});
            columns.add(new String[] {"Mode"});
            String[][] cells = new String[rows.size()][];
            for (int i = 0; i < rows.size(); i++) {
                Row row = rows.get(i);
                cells[i] = new String[] {
                    Integer.toString(i), row.name(), row.type(), humanCount(row.params()), row.mode()
                };
            }
            int[] widths = new int[columns.size()];
            int dashes = 3 * (columns.size() + 1);
            for (int c = 0; c < widths.length; c++) {
                widths[c] = columns.get(c)[0].length();
                for (String[] line : cells) {
                    widths[c] = Math.max(widths[c], line[c].length());
                }
                dashes += widths[c];
            }
            StringBuilder table = new StringBuilder();
            String[] header = new String[widths.length];
            for (int c = 0; c < widths.length; c++) {
                header[c] = columns.get(c)[0];
            }
            appendLine(table, header, widths);
            String divider = "-".repeat(dashes);
            table.append(divider).append('\n');
            for (String[] line : cells) {
                appendLine(table, line, widths);
            }
            table.append(divider).append('\n');
            appendTotal(table, humanCount(trainable), "Trainable params");
            appendTotal(table, humanCount(nonTrainable), "Non-trainable params");
            appendTotal(table, humanCount(totalParams()), "Total params");
            appendTotal(table, megabytes(sizeMb()), "Total estimated model params size (MB)");
            appendTotal(table, Integer.toString(trainModeModules()), "Modules in train mode");
            appendTotal(table, Integer.toString(evalModeModules()), "Modules in eval mode");
            if (!isComplete()) {
                table.append("(").append(unknownParameters)
                        .append(" parameter(s) not created yet are not counted)\n");
            }
            table.setLength(table.length() - 1);
            return table.toString();
        }

        private static void appendLine(StringBuilder table, String[] values, int[] widths) {
            int start = table.length();
            for (int c = 0; c < values.length; c++) {
                if (c > 0) {
                    table.append(" | ");
                }
                table.append(values[c]);
                for (int i = values[c].length(); i < widths[c]; i++) {
                    table.append(' ');
                }
            }
            int end = table.length();
            while (end > start && table.charAt(end - 1) == ' ') {
                end--;
            }
            table.setLength(end);
            table.append('\n');
        }

        private static void appendTotal(StringBuilder table, String value, String label) {
            table.append(value);
            for (int i = value.length(); i < 10; i++) {
                table.append(' ');
            }
            table.append(label).append('\n');
        }
    }
}
