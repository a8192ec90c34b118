package io.github.djllightning.callbacks;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * Figures from Linux's {@code /proc} files, read as {@code psutil} reads them. Each reading returns null where the
 * file is missing or lacks the line (other systems, restricted containers), so callers can fall back or leave the
 * value out. Reading these files is several times cheaper than the JVM's container-aware management beans.
 */
final class ProcFiles {

    private static final Path STATUS = Path.of("/proc/self/status");
    private static final Path MEMINFO = Path.of("/proc/meminfo");
    private static final Path STAT = Path.of("/proc/stat");
    private static final long KIB = 1024L;
    /** user, nice, system, idle, iowait, irq, softirq, steal; guest time is already part of user and nice. */
    private static final int COUNTED_CPU_FIELDS = 8;
    private static final int IDLE = 3;
    private static final int IOWAIT = 4;

    /** The machine's memory and swap, in bytes. */
    record Memory(long total, long available, long swapTotal, long swapFree) {}

    private ProcFiles() {}

    /**
     * This process's resident set size.
     *
     * @return {@code VmRSS} in bytes, or null
     */
    static Long residentBytes() {
        Long kib = kibFields(STATUS, "VmRSS").get("VmRSS");
        return kib == null ? null : kib * KIB;
    }

    /**
     * The machine's memory: total, available (what can be given to programs without swapping), and swap.
     *
     * @return the figures, or null
     */
    static Memory memory() {
        Map<String, Long> values = kibFields(MEMINFO, "MemTotal", "MemAvailable", "SwapTotal", "SwapFree");
        if (values.size() < 4 || values.get("MemTotal") <= 0) {
            return null;
        }
        return new Memory(values.get("MemTotal") * KIB, values.get("MemAvailable") * KIB,
                values.get("SwapTotal") * KIB, values.get("SwapFree") * KIB);
    }

    /**
     * The CPU time of all cores since boot, from the first line of {@code /proc/stat}.
     *
     * @return {busy ticks, total ticks}, where idle and I/O wait are not busy; or null
     */
    static long[] cpuTicks() {
        if (!Files.isReadable(STAT)) {
            return null;
        }
        String line;
        try (BufferedReader reader = Files.newBufferedReader(STAT, StandardCharsets.US_ASCII)) {
            line = reader.readLine();
        } catch (IOException | RuntimeException e) {
            return null;
        }
        if (line == null || !line.startsWith("cpu ")) {
            return null;
        }
        String[] parts = line.substring(4).trim().split("\\s+");
        if (parts.length <= IOWAIT) {
            return null;
        }
        long total = 0;
        long idle = 0;
        try {
            for (int i = 0; i < parts.length && i < COUNTED_CPU_FIELDS; i++) {
                long value = Long.parseLong(parts[i]);
                total += value;
                if (i == IDLE || i == IOWAIT) {
                    idle += value;
                }
            }
        } catch (NumberFormatException e) {
            return null;
        }
        return new long[] {total - idle, total};
    }

    /** Reads lines such as {@code VmRSS:   2084 kB} and returns the numbers of the wanted fields. */
    private static Map<String, Long> kibFields(Path file, String... fields) {
        Map<String, Long> found = new HashMap<>();
        if (!Files.isReadable(file)) {
            return found;
        }
        try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.US_ASCII)) {
            String line;
            while (found.size() < fields.length && (line = reader.readLine()) != null) {
                for (String field : fields) {
                    if (line.startsWith(field) && line.length() > field.length() && line.charAt(field.length()) == ':') {
                        Long value = firstNumber(line, field.length() + 1);
                        if (value != null) {
                            found.put(field, value);
                        }
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            return found;
        }
        return found;
    }

    private static Long firstNumber(String line, int from) {
        int start = from;
        while (start < line.length() && !Character.isDigit(line.charAt(start))) {
            start++;
        }
        int end = start;
        while (end < line.length() && Character.isDigit(line.charAt(end))) {
            end++;
        }
        if (start == end || end - start > 18) {
            return null;
        }
        return Long.parseLong(line.substring(start, end));
    }
}
