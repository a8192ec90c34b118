package io.github.djllightning.util;

import com.sun.jna.NativeLibrary;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The native libraries the engine has loaded into this process (libtorch, its OpenMP runtime, the C++ runtime),
 * found by name in {@code /proc/self/maps} and opened with JNA, for the few engine functions DJL does not expose.
 * Linux only; elsewhere nothing is found and callers keep to DJL's API.
 */
public final class EngineLibraries {

    private static final Path MAPS = Path.of("/proc/self/maps");

    private EngineLibraries() {}

    /**
     * Whether this process runs on a CPU architecture whose C calling convention the callers of these libraries
     * were written for: x86-64.
     *
     * @return true on x86-64
     */
    public static boolean isX86() {
        return List.of("amd64", "x86_64").contains(System.getProperty("os.arch"));
    }

    /**
     * Opens a library the process has already loaded, after making sure the engine is loaded.
     *
     * @param prefix the start of the library's file name, for example {@code libtorch_cpu}
     * @return the library, or null when no loaded library's name starts with it (or this is not Linux)
     * @throws UncheckedIOException when the process's memory map cannot be read
     */
    public static NativeLibrary loaded(String prefix) {
        EngineSetup.engine();
        if (!Files.isReadable(MAPS)) {
            return null;
        }
        List<String> lines;
        try {
            lines = Files.readAllLines(MAPS);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + MAPS, e);
        }
        for (String line : lines) {
            int slash = line.indexOf('/');
            if (slash < 0) {
                continue;
            }
            String path = line.substring(slash).trim();
            String name = path.substring(path.lastIndexOf('/') + 1);
            if (name.startsWith(prefix) && name.contains(".so")) {
                return NativeLibrary.getInstance(path);
            }
        }
        return null;
    }
}
