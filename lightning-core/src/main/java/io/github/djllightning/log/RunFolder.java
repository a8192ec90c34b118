package io.github.djllightning.log;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where a logger's run goes, as Lightning lays it out: {@code saveDir/name/version_N}, where {@code N} is one more
 * than the highest {@code version_<int>} folder present when the version is first asked for (an empty name drops that
 * level), or an explicit version: a number becomes {@code version_<n>}, a string is the folder's name. Shared by the
 * loggers so they number their runs alike.
 */
public final class RunFolder {

    private static final String VERSION_FOLDER = "version_";

    private final Path saveDir;
    private final String name;
    private final String givenVersion;
    private final boolean givenNumeric;
    private String version;
    private boolean numericVersion;
    private Path logDir;

    /**
     * Describes a run folder.
     *
     * @param saveDir the folder under which experiments are written
     * @param name the experiment's name; null or empty writes the version folders straight into {@code saveDir}
     * @param givenVersion an explicit version, or null for the next free number
     * @param givenNumeric whether the explicit version is a number (folder {@code version_<n>}) or a folder name
     */
    public RunFolder(Path saveDir, String name, String givenVersion, boolean givenNumeric) {
        this.saveDir = saveDir;
        this.name = name == null ? "" : name;
        this.givenVersion = givenVersion;
        this.givenNumeric = givenNumeric;
    }

    /** The folder under which experiments are written. */
    public Path saveDir() {
        return saveDir;
    }

    /** The experiment's name; empty when the version folders go straight into {@link #saveDir()}. */
    public String name() {
        return name;
    }

    /**
     * The run's version: the explicit one, or the next free number (the experiment folder is scanned once, on the
     * first call).
     *
     * @return the version
     * @throws UncheckedIOException naming the folder when it cannot be listed
     */
    public synchronized String version() {
        if (version == null) {
            if (givenVersion != null) {
                version = givenVersion;
                numericVersion = givenNumeric;
            } else {
                version = Integer.toString(nextVersion());
                numericVersion = true;
            }
        }
        return version;
    }

    /** The run's folder; not created here. */
    public synchronized Path logDir() {
        if (logDir == null) {
            String v = version();
            logDir = experimentDir().resolve(numericVersion ? VERSION_FOLDER + v : v);
        }
        return logDir;
    }

    /** The run's folder when known, else the experiment folder (without scanning it). */
    @Override
    public synchronized String toString() {
        return String.valueOf(logDir != null ? logDir : experimentDir());
    }

    private Path experimentDir() {
        return name.isEmpty() ? saveDir : saveDir.resolve(name);
    }

    private int nextVersion() {
        Path root = experimentDir();
        if (!Files.isDirectory(root)) {
            return 0;
        }
        int max = -1;
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(root, VERSION_FOLDER + "*")) {
            for (Path entry : entries) {
                String suffix = entry.getFileName().toString().substring(VERSION_FOLDER.length());
                if (isDigits(suffix) && suffix.length() < 10 && Files.isDirectory(entry)) {
                    max = Math.max(max, Integer.parseInt(suffix));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(
                    "Could not list " + root + " to pick the next version: " + e.getMessage(), e);
        }
        return max + 1;
    }

    private static boolean isDigits(String text) {
        if (text.isEmpty()) {
            return false;
        }
        for (int i = 0; i < text.length(); i++) {
            if (text.charAt(i) < '0' || text.charAt(i) > '9') {
                return false;
            }
        }
        return true;
    }
}
