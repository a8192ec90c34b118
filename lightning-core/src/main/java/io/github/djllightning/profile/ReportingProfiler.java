package io.github.djllightning.profile;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * A profiler that writes its report, and any recording it makes, under a folder: what the simple, advanced and
 * PyTorch profilers share (Lightning's {@code Profiler} base).
 *
 * <p>Files are named {@code {dirpath}/{stage}-{filename}.{ext}}, e.g. {@code lightning_logs/version_0/fit-perf.txt};
 * without a filename they are named {@code {stage}.{ext}}. Characters that are unsafe in file names become {@code _}.
 * {@code dirpath} defaults to the Trainer's {@code logDir()} (the first logger's version folder, else the default
 * root folder). The text report is appended to {@code {stage}-{filename}.txt} when a filename is given, else printed
 * to standard output.
 */
public abstract class ReportingProfiler implements Profiler {

    private static final Pattern UNSAFE = Pattern.compile("[\\\\/:*?\"<>|\\n\\r\\t]");
    private static final Pattern RUNS = Pattern.compile("_+");

    private final Path dirpath;
    private final String filename;
    private String stage;
    private Path dir;

    /**
     * Creates a profiler writing under a folder.
     *
     * @param dirpath the folder, or null for the Trainer's log folder
     * @param filename the base name of the files, or null to print the report and name files after the stage only
     */
    protected ReportingProfiler(Path dirpath, String filename) {
        this.dirpath = dirpath;
        this.filename = filename == null || filename.isBlank() ? null : filename;
    }

    @Override
    public void setup(String stage, Path logDir) {
        this.stage = stage;
        Path chosen = dirpath != null ? dirpath : logDir;
        dir = chosen != null ? chosen : Paths.get("").toAbsolutePath();
    }

    /** The stage being profiled ({@code fit}, {@code validate}, ...), or null before {@link #setup}. */
    protected final String stage() {
        return stage;
    }

    /** The base name of the files, or null when none was given. */
    public final String filename() {
        return filename;
    }

    /**
     * Where a file of the current stage with this extension goes; creates its folder.
     *
     * @param extension the extension with its dot, e.g. {@code ".txt"}
     * @return the path {@code {dirpath}/{stage}-{filename}{extension}}
     */
    public final Path outputFile(String extension) {
        if (dir == null) {
            throw new IllegalStateException(getClass().getSimpleName() + " has not been set up by a Trainer yet:"
                    + " its files are named after the stage, which setup(stage, logDir) gives");
        }
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("could not create the profiler's folder " + dir, e);
        }
        return dir.resolve(fileName(stage, filename, extension));
    }

    /**
     * The file name of a stage's report: stage and filename joined by {@code -}, unsafe characters replaced.
     *
     * @param stage the stage, or null
     * @param filename the base name, or null
     * @param extension the extension with its dot
     * @return e.g. {@code fit-perf.txt}
     */
    static String fileName(String stage, String filename, String extension) {
        StringBuilder base = new StringBuilder();
        if (stage != null) {
            base.append(stage.toLowerCase(Locale.ROOT));
        }
        if (filename != null) {
            if (base.length() > 0) {
                base.append('-');
            }
            base.append(filename);
        }
        String safe = RUNS.matcher(UNSAFE.matcher(base).replaceAll("_")).replaceAll("_").strip();
        return (safe.isEmpty() ? "profile" : safe) + extension;
    }

    /**
     * Writes a text report: appended to {@code {stage}-{filename}.txt} when a filename was given, else printed to
     * standard output.
     *
     * @param text the report
     */
    protected final void writeReport(String text) {
        if (text.isEmpty()) {
            return;
        }
        if (filename == null) {
            System.out.print(text);
            System.out.flush();
            return;
        }
        Path file = outputFile(".txt");
        try {
            Files.writeString(file, text, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException("could not write the profiler report " + file, e);
        }
    }

    /** The stage's name in upper case, as report titles show it, or an empty string before setup. */
    protected final String stageTitle() {
        return stage == null ? "" : stage.toUpperCase(Locale.ROOT) + " ";
    }
}
