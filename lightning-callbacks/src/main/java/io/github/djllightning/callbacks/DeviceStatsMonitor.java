package io.github.djllightning.callbacks;

import ai.djl.Device;
import ai.djl.training.dataset.Batch;
import ai.djl.util.cuda.CudaUtils;
import io.github.djllightning.callback.Callback;
import io.github.djllightning.log.Logger;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.trainer.MisconfigurationException;
import io.github.djllightning.trainer.Trainer;
import io.github.djllightning.trainer.TrainerFn;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.lang.management.OperatingSystemMXBean;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.slf4j.LoggerFactory;

/**
 * Logs how busy the machine is and how much memory the run uses, at the training, validation and test batches.
 * Lightning's {@code DeviceStatsMonitor}.
 *
 * <pre>{@code
 * Trainer.builder().callbacks(new DeviceStatsMonitor()).build();
 * // metrics.csv gets columns such as DeviceStatsMonitor.on_train_batch_start/cpu_percent
 * }</pre>
 *
 * <p><b>Names.</b> Each value is logged as {@code DeviceStatsMonitor.<hook>/<key>}, where the hook is
 * {@code on_train_batch_start}, {@code on_train_batch_end}, {@code on_validation_batch_start}, ... and {@code /} is
 * the logger's {@link Logger#groupSeparator() group separator}.
 *
 * <p><b>CPU keys</b> (logged when the Trainer runs on the CPU, or with {@code cpuStats(true)} on any device):
 * <ul>
 *   <li>{@value #CPU_PERCENT}: the whole machine's CPU use in percent, from {@code /proc/stat} as {@code psutil}
 *       counts it (elsewhere as the JVM reports it), over the last half second or more (Lightning's key);
 *   <li>{@value #CPU_VM_PERCENT}: the machine's memory in use, in percent (total less {@code MemAvailable} of
 *       {@code /proc/meminfo}, elsewhere less free memory; Lightning's key);
 *   <li>{@value #CPU_SWAP_PERCENT}: swap in use, in percent, 0 without swap (Lightning's key);
 *   <li>{@value #PROCESS_CPU_PERCENT}: this process's CPU use over the last half second or more, in percent of one
 *       core (above 100 when several cores work);
 *   <li>{@value #PROCESS_RSS_BYTES}: this process's resident memory ({@code VmRSS} of {@code /proc/self/status}; left
 *       out where that file does not exist);
 *   <li>{@value #JVM_HEAP_USED_BYTES}: the Java heap in use;
 *   <li>{@value #JVM_DIRECT_BYTES}: the memory of Java's direct buffers, which back DJL's CPU tensors created from
 *       Java arrays and stay allocated until a garbage collection.
 * </ul>
 *
 * <p><b>GPU keys</b> (when the Trainer runs on a GPU): {@value #GPU_MEMORY_USED_MB} and {@value #GPU_MEMORY_FREE_MB}
 * of that device, as CUDA reports them for the whole device (Lightning's {@code nvidia-smi} names).
 *
 * <p><b>When.</b> At a training batch's start and end when it is one of the batches that send step metrics (every
 * {@code logEveryNSteps}-th optimizer-stepping batch, or any batch once a stop was requested); at every
 * {@code logEveryNSteps}-th batch of a validation or test run (the sanity check included). The values go to every
 * logger directly, one row per hook, whose step is the number of optimizer-stepping batches so far.
 *
 * <p>The CPU percentages cover a sliding window of at least half a second (in a run's first half second, the time
 * since setup), because CPU time advances in 10 ms ticks. On Linux the CPU readings come from {@code /proc} (about
 * 0.1 ms per hook); they never touch the device's tensors.
 *
 * <p>With {@code cpuStats(false)} on the CPU nothing is logged. Fit needs a logger: it fails at setup without one.
 * The callback has no checkpoint state.
 */
public class DeviceStatsMonitor implements Callback {

    /** The machine's CPU use in percent. */
    public static final String CPU_PERCENT = "cpu_percent";
    /** The machine's memory in use, in percent. */
    public static final String CPU_VM_PERCENT = "cpu_vm_percent";
    /** The machine's swap in use, in percent. */
    public static final String CPU_SWAP_PERCENT = "cpu_swap_percent";
    /** This process's CPU use, in percent of one core. */
    public static final String PROCESS_CPU_PERCENT = "process_cpu_percent";
    /** This process's resident memory in bytes. */
    public static final String PROCESS_RSS_BYTES = "process_rss_bytes";
    /** The Java heap in use, in bytes. */
    public static final String JVM_HEAP_USED_BYTES = "jvm_heap_used_bytes";
    /** The memory of Java's direct buffers, in bytes. */
    public static final String JVM_DIRECT_BYTES = "jvm_direct_bytes";
    /** The GPU's memory in use, in MiB. */
    public static final String GPU_MEMORY_USED_MB = "memory.used (MB)";
    /** The GPU's free memory, in MiB. */
    public static final String GPU_MEMORY_FREE_MB = "memory.free (MB)";

    /** Every CPU key, in logging order. */
    public static final List<String> CPU_KEYS = List.of(CPU_PERCENT, CPU_VM_PERCENT, CPU_SWAP_PERCENT,
            PROCESS_CPU_PERCENT, PROCESS_RSS_BYTES, JVM_HEAP_USED_BYTES, JVM_DIRECT_BYTES);
    /** Every GPU key, in logging order. */
    public static final List<String> GPU_KEYS = List.of(GPU_MEMORY_USED_MB, GPU_MEMORY_FREE_MB);

    private static final org.slf4j.Logger LOG = LoggerFactory.getLogger(DeviceStatsMonitor.class);
    private static final double MIB = 1024.0 * 1024.0;

    private final Boolean cpuStats;
    private final Set<String> filterKeys;
    private final CpuStats cpu = new CpuStats();
    private long evalBatches;
    private boolean gpuFailed;

    /** A monitor with Lightning's defaults: CPU values only when the Trainer runs on the CPU, every key. */
    public DeviceStatsMonitor() {
        this(builder());
    }

    /**
     * A monitor that logs the CPU values or not.
     *
     * @param cpuStats true to log them on any device, false never to log them
     */
    public DeviceStatsMonitor(boolean cpuStats) {
        this(builder().cpuStats(cpuStats));
    }

    /**
     * Creates a monitor from a builder.
     *
     * @param b the builder
     */
    protected DeviceStatsMonitor(Builder b) {
        this.cpuStats = b.cpuStats;
        this.filterKeys = b.filterKeys == null ? null : Collections.unmodifiableSet(new LinkedHashSet<>(b.filterKeys));
    }

    /**
     * Starts a builder with Lightning's defaults.
     *
     * @return the builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Checks that fit has a logger, warns about filter keys that no reading has, and starts the CPU clocks.
     *
     * @throws MisconfigurationException when fit runs without a logger
     */
    @Override
    public void setup(Trainer trainer, LightningModule module, TrainerFn stage) {
        cpu.start();
        if (stage != TrainerFn.FIT) {
            return;
        }
        if (trainer.loggers().isEmpty()) {
            throw new MisconfigurationException("Cannot use DeviceStatsMonitor with a Trainer that has no logger: the"
                    + " Trainer was built with logger(false). Keep the default logger, pass one with loggers(...), or"
                    + " remove the DeviceStatsMonitor.");
        }
        if (filterKeys != null) {
            Set<String> known = new LinkedHashSet<>();
            boolean gpu = trainer.device().isGpu();
            if (gpu) {
                known.addAll(GPU_KEYS);
            }
            if (!gpu || Boolean.TRUE.equals(cpuStats)) {
                known.addAll(CPU_KEYS);
            }
            Set<String> unknown = new LinkedHashSet<>(filterKeys);
            unknown.removeAll(known);
            if (!unknown.isEmpty()) {
                LOG.warn("DeviceStatsMonitor filterKeys {} are not among the values logged on {} and are ignored;"
                        + " the keys are {}.", unknown, trainer.device(), known);
            }
        }
    }

    @Override
    public void onTrainBatchStart(Trainer trainer, LightningModule module, Batch batch, int batchIdx) {
        if (LogSchedule.trainBatchDue(trainer)) {
            logStats(trainer, "on_train_batch_start");
        }
    }

    @Override
    public void onTrainBatchEnd(
            Trainer trainer, LightningModule module, Map<String, Object> outputs, Batch batch, int batchIdx) {
        if (LogSchedule.trainBatchDue(trainer)) {
            logStats(trainer, "on_train_batch_end");
        }
    }

    @Override
    public void onValidationStart(Trainer trainer, LightningModule module) {
        evalBatches = 0;
    }

    @Override
    public void onValidationBatchStart(
            Trainer trainer, LightningModule module, Batch batch, int batchIdx, int dataloaderIdx) {
        evalBatches++;
        if (LogSchedule.evalBatchDue(trainer, evalBatches)) {
            logStats(trainer, "on_validation_batch_start");
        }
    }

    @Override
    public void onValidationBatchEnd(
            Trainer trainer, LightningModule module, Object outputs, Batch batch, int batchIdx, int dataloaderIdx) {
        if (LogSchedule.evalBatchDue(trainer, evalBatches)) {
            logStats(trainer, "on_validation_batch_end");
        }
    }

    @Override
    public void onTestStart(Trainer trainer, LightningModule module) {
        evalBatches = 0;
    }

    @Override
    public void onTestBatchStart(
            Trainer trainer, LightningModule module, Batch batch, int batchIdx, int dataloaderIdx) {
        evalBatches++;
        if (LogSchedule.evalBatchDue(trainer, evalBatches)) {
            logStats(trainer, "on_test_batch_start");
        }
    }

    @Override
    public void onTestBatchEnd(
            Trainer trainer, LightningModule module, Object outputs, Batch batch, int batchIdx, int dataloaderIdx) {
        if (LogSchedule.evalBatchDue(trainer, evalBatches)) {
            logStats(trainer, "on_test_batch_end");
        }
    }

    /**
     * Reads the values for the Trainer's device and sends them to every logger under
     * {@code <class name>.<hook>/<key>}.
     *
     * @param trainer the Trainer
     * @param hook the hook's Lightning name, for example {@code on_train_batch_start}
     */
    protected void logStats(Trainer trainer, String hook) {
        Device device = trainer.device();
        boolean gpu = device.isGpu();
        if (!gpu && Boolean.FALSE.equals(cpuStats)) {
            return;
        }
        Map<String, Double> stats = new LinkedHashMap<>();
        if (gpu) {
            readGpu(device, stats);
        }
        if (!gpu || Boolean.TRUE.equals(cpuStats)) {
            cpu.read(stats);
        }
        if (filterKeys != null) {
            stats.keySet().retainAll(filterKeys);
        }
        if (stats.isEmpty()) {
            return;
        }
        String prefix = prefix() + "." + hook;
        long step = LogSchedule.step(trainer);
        for (Logger logger : trainer.loggers()) {
            Map<String, Double> prefixed = new LinkedHashMap<>();
            String separator = logger.groupSeparator();
            stats.forEach((key, value) -> prefixed.put(prefix + separator + key, value));
            logger.logMetrics(prefixed, step);
        }
    }

    private String prefix() {
        String name = getClass().getSimpleName();
        return name.isEmpty() ? DeviceStatsMonitor.class.getSimpleName() : name;
    }

    private void readGpu(Device device, Map<String, Double> stats) {
        if (gpuFailed) {
            return;
        }
        try {
            MemoryUsage memory = CudaUtils.getGpuMemory(device);
            stats.put(GPU_MEMORY_USED_MB, memory.getUsed() / MIB);
            stats.put(GPU_MEMORY_FREE_MB, (memory.getMax() - memory.getUsed()) / MIB);
        } catch (RuntimeException | LinkageError e) {
            gpuFailed = true;
            LOG.warn("DeviceStatsMonitor cannot read the memory of {} ({}); GPU values are not logged.", device,
                    e.toString());
        }
    }

    /** Whether CPU values are logged: null (default) on the CPU only, true on any device, false never. */
    public Boolean cpuStats() {
        return cpuStats;
    }

    /** The keys that are logged (null for all). */
    public Set<String> filterKeys() {
        return filterKeys;
    }

    /** Configures a {@link DeviceStatsMonitor}; every setter has Lightning's default. */
    public static class Builder {
        private Boolean cpuStats;
        private Set<String> filterKeys;

        Builder() {}

        /**
         * Whether to log the CPU values: null (default) when the Trainer runs on the CPU only, true on any device
         * (next to the GPU's), false never (on the CPU nothing is logged then).
         *
         * @param value the choice
         * @return this builder
         */
        public Builder cpuStats(Boolean value) {
            cpuStats = value;
            return this;
        }

        /**
         * Logs only these keys, named without the hook prefix (for example {@code "process_rss_bytes"}); default
         * null logs every key. Keys that no reading has are warned about when fit starts.
         *
         * @param value the keys, or null for all
         * @return this builder
         * @throws MisconfigurationException when the set is empty or holds a null or blank key
         */
        public Builder filterKeys(Set<String> value) {
            if (value != null) {
                if (value.isEmpty()) {
                    throw new MisconfigurationException("DeviceStatsMonitor filterKeys is empty, so nothing would be"
                            + " logged; pass the keys to keep, e.g. Set.of(\"" + PROCESS_RSS_BYTES + "\"), or null"
                            + " for all. The keys are " + CPU_KEYS + " and on a GPU " + GPU_KEYS + ".");
                }
                for (String key : value) {
                    if (key == null || key.isBlank()) {
                        throw new MisconfigurationException("DeviceStatsMonitor filterKeys holds a null or blank key: "
                                + value + ". The keys are " + CPU_KEYS + " and on a GPU " + GPU_KEYS + ".");
                    }
                }
            }
            filterKeys = value;
            return this;
        }

        /**
         * Builds the callback.
         *
         * @return the monitor
         */
        public DeviceStatsMonitor build() {
            return new DeviceStatsMonitor(this);
        }
    }

    /** Readings of the machine and of this process. */
    static final class CpuStats {
        private final OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
        private final com.sun.management.OperatingSystemMXBean sun =
                os instanceof com.sun.management.OperatingSystemMXBean
                        ? (com.sun.management.OperatingSystemMXBean) os
                        : null;
        private final BufferPoolMXBean direct = directPool();
        private final boolean procStat = ProcFiles.cpuTicks() != null;
        private final CpuWindow machineCpu = new CpuWindow(ProcFiles::cpuTicks, System::nanoTime);
        private final CpuWindow processCpu = new CpuWindow(this::processCpu, System::nanoTime);

        private static BufferPoolMXBean directPool() {
            for (BufferPoolMXBean pool : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
                if ("direct".equals(pool.getName())) {
                    return pool;
                }
            }
            return null;
        }

        /** Starts the CPU clocks. */
        void start() {
            machineCpu.start();
            processCpu.start();
        }

        void read(Map<String, Double> stats) {
            Double machine = procStat ? machineCpu.percent() : mxbeanCpuPercent();
            if (machine != null) {
                stats.put(CPU_PERCENT, machine);
            }
            memory(stats);
            Double process = processCpu.percent();
            if (process != null) {
                stats.put(PROCESS_CPU_PERCENT, process);
            }
            Long rss = ProcFiles.residentBytes();
            if (rss != null) {
                stats.put(PROCESS_RSS_BYTES, rss.doubleValue());
            }
            stats.put(JVM_HEAP_USED_BYTES, (double) ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
            if (direct != null) {
                stats.put(JVM_DIRECT_BYTES, (double) direct.getMemoryUsed());
            }
        }

        private Double mxbeanCpuPercent() {
            double load = sun == null ? -1 : sun.getCpuLoad();
            return load >= 0 ? 100.0 * load : null;
        }

        private void memory(Map<String, Double> stats) {
            ProcFiles.Memory memory = ProcFiles.memory();
            if (memory == null && sun != null && sun.getTotalMemorySize() > 0) {
                memory = new ProcFiles.Memory(sun.getTotalMemorySize(), sun.getFreeMemorySize(),
                        sun.getTotalSwapSpaceSize(), sun.getFreeSwapSpaceSize());
            }
            if (memory == null) {
                return;
            }
            stats.put(CPU_VM_PERCENT, 100.0 * (memory.total() - memory.available()) / memory.total());
            long swap = memory.swapTotal();
            stats.put(CPU_SWAP_PERCENT, swap > 0 ? 100.0 * (swap - memory.swapFree()) / swap : 0.0);
        }

        /** {this process's CPU nanoseconds, wall nanoseconds}: their ratio is the share of one core. */
        private long[] processCpu() {
            long cpu = sun == null ? -1 : sun.getProcessCpuTime();
            return cpu < 0 ? null : new long[] {cpu, System.nanoTime()};
        }
    }

    /**
     * A CPU percentage over a sliding window of at least {@link #WINDOW_NANOS}. CPU time advances in clock ticks (10
     * ms on Linux), so a percentage over the few milliseconds between two log steps would be mostly rounding; before
     * the first window has passed, the time since {@link #start()} is used.
     */
    static final class CpuWindow {
        /** The shortest span a percentage is computed over, once the run is that old. */
        static final long WINDOW_NANOS = 500_000_000L;

        private final Supplier<long[]> counters;
        private final LongSupplier wallNanos;
        private long[] start;
        private long startWall;
        private long[] previous;

        /**
         * A window over two counters.
         *
         * @param counters {used, elapsed}, both growing, or null when they cannot be read
         * @param wallNanos the clock that decides when a window has passed
         */
        CpuWindow(Supplier<long[]> counters, LongSupplier wallNanos) {
            this.counters = counters;
            this.wallNanos = wallNanos;
        }

        void start() {
            start = counters.get();
            startWall = wallNanos.getAsLong();
            previous = null;
        }

        /** 100 times the growth of the used counter over that of the elapsed one, over the window; or null. */
        Double percent() {
            long[] now = counters.get();
            long wall = wallNanos.getAsLong();
            if (now == null || start == null) {
                return null;
            }
            if (wall - startWall >= WINDOW_NANOS) {
                previous = start;
                start = now;
                startWall = wall;
            }
            long[] from = previous != null ? previous : start;
            long elapsed = now[1] - from[1];
            return elapsed <= 0 ? null : 100.0 * (now[0] - from[0]) / elapsed;
        }
    }
}
