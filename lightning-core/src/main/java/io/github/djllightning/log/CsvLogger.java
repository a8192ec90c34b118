package io.github.djllightning.log;

import io.github.djllightning.util.AtomicFiles;
import io.github.djllightning.util.PythonFormat;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVPrinter;
import org.apache.commons.csv.CSVRecord;
import org.slf4j.LoggerFactory;

/**
 * Writes metrics to {@code metrics.csv} and hyperparameters to {@code hparams.yaml} in a run folder; the Trainer's
 * default logger. Lightning's {@code CSVLogger}.
 *
 * <pre>{@code
 * Trainer.builder().loggers(CsvLogger.builder(Path.of("logs")).name("mnist").build()).build();
 * // logs/mnist/version_0/metrics.csv, logs/mnist/version_0/hparams.yaml
 * }</pre>
 *
 * <p>The run folder is {@code saveDir/name/version_N} ({@code name} null or empty drops that level). Without an
 * explicit version, {@code N} is one more than the highest {@code version_<int>} folder present when the version is
 * first asked for (0 when there is none); it then stays fixed for this logger's life.
 *
 * <p>{@link #logMetrics} buffers one sparse row per call: the metrics (their names prefixed with {@code prefix-} when
 * a prefix is set) plus a {@code step} column. {@link #save} writes the buffered rows. The header is the sorted union
 * of every column seen, including those already in the file; rows leave the cells of other columns empty. Values are
 * written as Python's {@code repr} writes floats ({@code 0.1}, {@code 1e-05}, {@code nan}), and the {@code epoch}
 * and {@code step} columns as integers, so the file reads the same as Lightning's. When a new column appears, the
 * whole file is rewritten with the wider header (existing rows kept) through a temporary file in the same folder that
 * is forced to disk and atomically moved over the old one; otherwise rows are appended, which keeps the logger cheap.
 *
 * <p><b>Better than Lightning:</b> an existing {@code metrics.csv} is never deleted or truncated. A run that logs into
 * an existing version folder (an explicit version, or a resumed run) appends to the rows already there, widening the
 * header when needed.
 *
 * <p>Not meant for concurrent use by several threads or several loggers on the same folder.
 */
public final class CsvLogger implements Logger {

    /** The metrics file's name. */
    public static final String METRICS_FILE = "metrics.csv";

    /** The hyperparameters file's name. */
    public static final String HPARAMS_FILE = "hparams.yaml";

    /** The default experiment name. */
    public static final String DEFAULT_NAME = "lightning_logs";

    private static final org.slf4j.Logger LOG = LoggerFactory.getLogger(CsvLogger.class);
    private static final String PREFIX_JOIN = "-";
    private static final String STEP = "step";
    private static final String EPOCH = "epoch";
    private static final CSVFormat FORMAT = CSVFormat.DEFAULT.builder().setRecordSeparator('\n').get();

    private final RunFolder folder;
    private final String prefix;
    private final List<Map<String, Double>> pending = new ArrayList<>();
    private final Map<String, Object> hparams = new LinkedHashMap<>();
    private final Set<String> integral;

    private boolean fileChecked;
    private List<String> fileHeader;
    private Set<String> fileColumns;
    private boolean needsNewline;

    /**
     * Creates a logger writing to {@code saveDir/lightning_logs/version_N}, with the next free version number.
     *
     * @param saveDir the folder under which experiments are written
     */
    public CsvLogger(Path saveDir) {
        this(builder(saveDir));
    }

    private CsvLogger(Builder builder) {
        this.folder = new RunFolder(builder.saveDir, builder.name, builder.version, builder.numericVersion);
        this.prefix = builder.prefix == null ? "" : builder.prefix;
        this.integral = prefix.isEmpty() ? Set.of(STEP, EPOCH) : Set.of(STEP, EPOCH, prefix + PREFIX_JOIN + EPOCH);
    }

    /**
     * A builder of CSV loggers.
     *
     * @param saveDir the folder under which experiments are written
     * @return the builder, with name {@code lightning_logs}, the next free version and no prefix
     */
    public static Builder builder(Path saveDir) {
        return new Builder(saveDir);
    }

    @Override
    public String name() {
        return folder.name();
    }

    /** {@inheritDoc} Without an explicit version, scans the experiment folder on the first call. */
    @Override
    public String version() {
        return folder.version();
    }

    @Override
    public Path saveDir() {
        return folder.saveDir();
    }

    /** {@inheritDoc} The folder is created on the first write, not here. */
    @Override
    public Path logDir() {
        return folder.logDir();
    }

    /** The metric name prefix (empty for none). */
    public String prefix() {
        return prefix;
    }

    /** The hyperparameters logged so far, merged, in the order they were first logged. */
    public synchronized Map<String, Object> hyperparams() {
        return Collections.unmodifiableMap(new LinkedHashMap<>(hparams));
    }

    /** {@inheritDoc} Buffers one row; {@link #save()} writes it. */
    @Override
    public synchronized void logMetrics(Map<String, Double> metrics, long step) {
        Map<String, Double> row = new LinkedHashMap<>(metrics.size() * 2 + 2);
        if (prefix.isEmpty()) {
            row.putAll(metrics);
        } else {
            for (Map.Entry<String, Double> entry : metrics.entrySet()) {
                row.put(prefix + PREFIX_JOIN + entry.getKey(), entry.getValue());
            }
        }
        row.put(STEP, (double) step);
        pending.add(row);
    }

    /**
     * {@inheritDoc} Merges into the hyperparameters logged before and rewrites {@code hparams.yaml} at once. Values
     * that are not plain (numbers, strings, booleans, lists, maps) are written as their {@code toString()}.
     */
    @Override
    public synchronized void logHyperparams(Map<String, Object> params) {
        hparams.putAll(params);
        Path file = logDir().resolve(HPARAMS_FILE);
        try {
            HparamsYaml.write(file, hparams);
        } catch (IOException e) {
            throw new UncheckedIOException("CsvLogger could not write " + file + ": " + e.getMessage(), e);
        }
    }

    /** {@inheritDoc} Appends the buffered rows to {@code metrics.csv}, rewriting it when its header must grow. */
    @Override
    public synchronized void save() {
        if (pending.isEmpty()) {
            return;
        }
        Path file = logDir().resolve(METRICS_FILE);
        try {
            if (!fileChecked) {
                inspectExisting(file);
                fileChecked = true;
            }
            if (fileColumns != null && coversPending() && Files.isRegularFile(file)) {
                append(file);
            } else {
                rewrite(file);
            }
            pending.clear();
        } catch (IOException e) {
            throw new UncheckedIOException("CsvLogger could not write " + file + ": " + e.getMessage(), e);
        }
    }

    /** {@inheritDoc} Writes what is buffered. */
    @Override
    public void finish(String status) {
        save();
    }

    @Override
    public String toString() {
        return "CsvLogger(" + folder + ")";
    }

    // ------------------------------------------------------------------ versions

    // ------------------------------------------------------------------ metrics file

    private void inspectExisting(Path file) throws IOException {
        if (!Files.isRegularFile(file) || Files.size(file) == 0) {
            return;
        }
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8);
                CSVParser parser = CSVParser.parse(reader, FORMAT)) {
            var records = parser.iterator();
            if (records.hasNext()) {
                List<String> header = records.next().toList();
                fileHeader = List.copyOf(header);
                fileColumns = new HashSet<>(header);
            }
        }
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer last = ByteBuffer.allocate(1);
            channel.read(last, channel.size() - 1);
            needsNewline = last.get(0) != '\n';
        }
        LOG.info("CsvLogger appends to the existing {} (its rows are kept).", file);
    }

    private boolean coversPending() {
        for (Map<String, Double> row : pending) {
            for (String key : row.keySet()) {
                if (!fileColumns.contains(key)) {
                    return false;
                }
            }
        }
        return true;
    }

    private void append(Path file) throws IOException {
        try (Writer writer = Files.newBufferedWriter(
                        file, StandardCharsets.UTF_8, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
                CSVPrinter printer = new CSVPrinter(writer, FORMAT)) {
            if (needsNewline) {
                writer.write('\n');
                needsNewline = false;
            }
            String[] cells = new String[fileHeader.size()];
            for (Map<String, Double> row : pending) {
                printer.printRecord((Object[]) cells(row, fileHeader, cells));
            }
            printer.flush();
        }
    }

    private void rewrite(Path file) throws IOException {
        List<Map<String, String>> existing = readRows(file);
        Set<String> columns = new TreeSet<>();
        if (fileHeader != null) {
            columns.addAll(fileHeader);
        }
        for (Map<String, Double> row : pending) {
            columns.addAll(row.keySet());
        }
        List<String> header = List.copyOf(columns);
        Files.createDirectories(file.getParent());
        replaceAtomically(file, writer -> {
            CSVPrinter printer = new CSVPrinter(writer, FORMAT);
            printer.printRecord(header);
            String[] cells = new String[header.size()];
            for (Map<String, String> old : existing) {
                for (int i = 0; i < cells.length; i++) {
                    String value = old.get(header.get(i));
                    cells[i] = value == null || value.isEmpty() ? null : value;
                }
                printer.printRecord((Object[]) cells);
            }
            for (Map<String, Double> row : pending) {
                printer.printRecord((Object[]) cells(row, header, cells));
            }
            printer.flush();
        });
        fileHeader = header;
        fileColumns = new HashSet<>(header);
        needsNewline = false;
    }

    private List<Map<String, String>> readRows(Path file) throws IOException {
        if (fileHeader == null || !Files.isRegularFile(file)) {
            return List.of();
        }
        List<Map<String, String>> rows = new ArrayList<>();
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8);
                CSVParser parser = CSVParser.parse(reader, FORMAT)) {
            boolean header = true;
            for (CSVRecord record : parser) {
                if (header) {
                    header = false;
                    continue;
                }
                Map<String, String> row = new LinkedHashMap<>();
                for (int i = 0; i < fileHeader.size() && i < record.size(); i++) {
                    row.putIfAbsent(fileHeader.get(i), record.get(i));
                }
                rows.add(row);
            }
        }
        return rows;
    }

    /** The row's cells in header order; null for an empty cell (printed bare, where "" would be quoted first). */
    private String[] cells(Map<String, Double> row, List<String> header, String[] cells) {
        for (int i = 0; i < cells.length; i++) {
            String column = header.get(i);
            Double value = row.get(column);
            if (value == null) {
                cells[i] = null;
            } else if (integral.contains(column)) {
                cells[i] = PythonFormat.integral(value);
            } else {
                cells[i] = PythonFormat.repr(value);
            }
        }
        return cells;
    }

    // ------------------------------------------------------------------ files

    /** Writes what a body produces. */
    private interface Body {
        void write(Writer writer) throws IOException;
    }

    private static void replaceAtomically(Path target, Body body) throws IOException {
        AtomicFiles.write(target, out -> {
            Writer writer = new BufferedWriter(new OutputStreamWriter(out, StandardCharsets.UTF_8));
            body.write(writer);
            writer.flush();
        });
    }


    /** Configures a {@link CsvLogger}. */
    public static final class Builder {

        private final Path saveDir;
        private String name = DEFAULT_NAME;
        private String version;
        private boolean numericVersion;
        private String prefix = "";

        private Builder(Path saveDir) {
            this.saveDir = Objects.requireNonNull(saveDir, "CsvLogger needs a saveDir (the folder for its runs)");
        }

        /**
         * Sets the experiment name, the folder level under the save dir.
         *
         * @param value the name; null or empty writes the version folders straight into the save dir
         * @return this builder
         */
        public Builder name(String value) {
            name = value;
            return this;
        }

        /**
         * Writes into {@code version_<value>}, appending to the metrics already there.
         *
         * @param value the version number, at least 0
         * @return this builder
         */
        public Builder version(int value) {
            if (value < 0) {
                throw new IllegalArgumentException(
                        "CsvLogger version must be at least 0, got " + value + "; leave it unset for the next free"
                                + " number.");
            }
            version = Integer.toString(value);
            numericVersion = true;
            return this;
        }

        /**
         * Writes into a folder of this name (instead of {@code version_N}), appending to the metrics already there.
         *
         * @param value the folder name; null for the next free number
         * @return this builder
         */
        public Builder version(String value) {
            if (value != null && (value.isEmpty() || value.contains("/") || value.contains("\\"))) {
                throw new IllegalArgumentException(
                        "CsvLogger version must be a non-empty folder name without separators, got '" + value + "'.");
            }
            version = value;
            numericVersion = false;
            return this;
        }

        /**
         * Sets a prefix for metric names: {@code train_loss} is written as {@code <prefix>-train_loss}.
         *
         * @param value the prefix; empty for none
         * @return this builder
         */
        public Builder prefix(String value) {
            prefix = value;
            return this;
        }

        /**
         * Creates the logger; nothing is written until something is logged.
         *
         * @return the logger
         */
        public CsvLogger build() {
            return new CsvLogger(this);
        }
    }
}
