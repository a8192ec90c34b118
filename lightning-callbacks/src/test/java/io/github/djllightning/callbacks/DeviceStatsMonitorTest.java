package io.github.djllightning.callbacks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.github.djllightning.data.DataLoader;
import io.github.djllightning.log.CsvLogger;
import io.github.djllightning.optim.Adam;
import io.github.djllightning.optim.OptimizerConfig;
import io.github.djllightning.testing.TestTrainers;
import io.github.djllightning.trainer.MisconfigurationException;
import io.github.djllightning.trainer.Trainer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The machine and memory values a user sees in {@code metrics.csv} when training the small MNIST autoencoder on the
 * CPU: which columns appear, at which steps, and whether the numbers are plausible for this process.
 */
class DeviceStatsMonitorTest {

    private static final String TRAIN_START = "DeviceStatsMonitor.on_train_batch_start/";
    private static final String TRAIN_END = "DeviceStatsMonitor.on_train_batch_end/";
    private static final String VAL_START = "DeviceStatsMonitor.on_validation_batch_start/";

    @TempDir
    Path root;

    private static TinyAutoEncoder module() {
        return new TinyAutoEncoder(m -> OptimizerConfig.of(new Adam(m.parameters(), 1e-2)));
    }

    private MetricsCsv fit(DeviceStatsMonitor monitor, int logEveryNSteps) {
        try (TinyAutoEncoder module = module()) {
            DataLoader val = TinyAutoEncoder.mnist(32);
            TestTrainers.quiet(root).loggers(new CsvLogger(root)).maxEpochs(2).logEveryNSteps(logEveryNSteps)
                    .callbacks(monitor).build().fit(module, TinyAutoEncoder.mnist(64), val);
        }
        return MetricsCsv.read(root.resolve("lightning_logs/version_0/metrics.csv"));
    }

    @Test
    void onTheCpuEveryCpuValueIsLoggedAtTheStepRowsWithPlausibleNumbers() {
        MetricsCsv csv = fit(new DeviceStatsMonitor(), 2);

        boolean linux = Files.isReadable(Path.of("/proc/self/status"));
        for (String prefix : List.of(TRAIN_START, TRAIN_END, VAL_START)) {
            for (String key : DeviceStatsMonitor.CPU_KEYS) {
                if (key.equals(DeviceStatsMonitor.PROCESS_RSS_BYTES) && !linux) {
                    continue;
                }
                assertThat(csv.header()).contains(prefix + key);
            }
        }
        assertThat(csv.header()).noneMatch(c -> c.endsWith(DeviceStatsMonitor.GPU_MEMORY_USED_MB));
        // the same batches as the step metrics: every second optimizer step, 4 per epoch
        assertThat(csv.stepsOf(TRAIN_START + DeviceStatsMonitor.JVM_HEAP_USED_BYTES))
                .containsExactly(1L, 3L, 5L, 7L)
                .isEqualTo(csv.stepsOf("train_loss_step"))
                .isEqualTo(csv.stepsOf(TRAIN_END + DeviceStatsMonitor.JVM_HEAP_USED_BYTES));
        assertThat(csv.rowsWith(TRAIN_START + DeviceStatsMonitor.CPU_PERCENT))
                .allSatisfy(row -> assertThat(row.get("epoch")).isEmpty());
        // 2 validation batches per run: the second of each run (sanity check, epoch 0, epoch 1)
        assertThat(csv.stepsOf(VAL_START + DeviceStatsMonitor.JVM_HEAP_USED_BYTES)).containsExactly(0L, 3L, 7L);

        for (String prefix : List.of(TRAIN_START, TRAIN_END)) {
            if (linux) {
                // a JVM with libtorch loaded holds far more than 50 MB, and a kB/byte mix-up would show
                assertThat(csv.valuesOf(prefix + DeviceStatsMonitor.PROCESS_RSS_BYTES))
                        .allSatisfy(v -> assertThat(v).isBetween(50e6, 1e12));
            }
            long maxHeap = Runtime.getRuntime().maxMemory();
            assertThat(csv.valuesOf(prefix + DeviceStatsMonitor.JVM_HEAP_USED_BYTES))
                    .allSatisfy(v -> assertThat(v).isGreaterThan(1e6).isLessThanOrEqualTo((double) maxHeap));
            assertThat(csv.valuesOf(prefix + DeviceStatsMonitor.JVM_DIRECT_BYTES))
                    .allSatisfy(v -> assertThat(v).isGreaterThanOrEqualTo(0.0));
            for (String percent : List.of(DeviceStatsMonitor.CPU_PERCENT, DeviceStatsMonitor.CPU_VM_PERCENT,
                    DeviceStatsMonitor.CPU_SWAP_PERCENT)) {
                assertThat(csv.valuesOf(prefix + percent)).allSatisfy(v -> assertThat(v).isBetween(0.0, 100.0));
            }
            assertThat(csv.valuesOf(prefix + DeviceStatsMonitor.CPU_VM_PERCENT))
                    .allSatisfy(v -> assertThat(v).isGreaterThan(0.0));
            assertThat(csv.valuesOf(prefix + DeviceStatsMonitor.PROCESS_CPU_PERCENT))
                    .allSatisfy(v -> assertThat(v).isGreaterThanOrEqualTo(0.0));
        }
    }

    @Test
    void cpuStatsFalseLogsNothingOnTheCpu() {
        MetricsCsv csv = fit(new DeviceStatsMonitor(false), 1);
        assertThat(csv.header()).contains("train_loss_step").noneMatch(c -> c.startsWith("DeviceStatsMonitor."));
    }

    @Test
    void filterKeysKeepsOnlyTheNamedValues() {
        DeviceStatsMonitor monitor = DeviceStatsMonitor.builder()
                .filterKeys(Set.of(DeviceStatsMonitor.JVM_HEAP_USED_BYTES, DeviceStatsMonitor.PROCESS_CPU_PERCENT))
                .build();
        MetricsCsv csv = fit(monitor, 4);
        assertThat(csv.header().stream().filter(c -> c.startsWith("DeviceStatsMonitor.")))
                .containsExactlyInAnyOrder(
                        TRAIN_START + DeviceStatsMonitor.JVM_HEAP_USED_BYTES,
                        TRAIN_START + DeviceStatsMonitor.PROCESS_CPU_PERCENT,
                        TRAIN_END + DeviceStatsMonitor.JVM_HEAP_USED_BYTES,
                        TRAIN_END + DeviceStatsMonitor.PROCESS_CPU_PERCENT);
        assertThat(csv.stepsOf(TRAIN_END + DeviceStatsMonitor.JVM_HEAP_USED_BYTES)).containsExactly(3L, 7L);
    }

    @Test
    void fitWithoutALoggerFailsButValidateDoesNot() {
        try (TinyAutoEncoder module = module()) {
            Trainer trainer = TestTrainers.quiet(root).maxEpochs(1).callbacks(new DeviceStatsMonitor()).build();
            assertThatThrownBy(() -> trainer.fit(module, TinyAutoEncoder.mnist(16)))
                    .isInstanceOf(MisconfigurationException.class)
                    .hasMessageContaining("DeviceStatsMonitor")
                    .hasMessageContaining("no logger")
                    .hasMessageContaining("loggers(");
            List<Map<String, Double>> results = trainer.validate(module, TinyAutoEncoder.mnist(16));
            assertThat(results.get(0)).containsKey("val_loss");
        }
    }

    @Test
    void cpuPercentagesAreAveragedOverAtLeastHalfASecondOnceTheRunIsThatOld() {
        long[] cpu = {0};
        long[] wall = {0};
        DeviceStatsMonitor.CpuWindow meter =
                new DeviceStatsMonitor.CpuWindow(() -> new long[] {cpu[0], wall[0]}, () -> wall[0]);
        meter.start();
        // 10 ms ticks: one tick in the first 20 ms reads as half a core
        cpu[0] = 10_000_000L;
        wall[0] = 20_000_000L;
        assertThat(meter.percent()).isEqualTo(50.0);
        // two cores busy for 600 ms: the window closes
        cpu[0] += 1_200_000_000L;
        wall[0] += 600_000_000L;
        assertThat(meter.percent()).isCloseTo(1_210.0 / 6.2, within(1e-9));
        // 30 ms later with one tick: still averaged from the run's start, not 33 % over 30 ms
        cpu[0] += 10_000_000L;
        wall[0] += 30_000_000L;
        assertThat(meter.percent()).isCloseTo(1_220.0 / 6.5, within(1e-9));
        // idle for a second: the next window starts where the first closed
        wall[0] += 1_000_000_000L;
        assertThat(meter.percent()).isCloseTo(100.0 * 10_000_000L / 1_030_000_000L, within(1e-9));
    }

    @Test
    void anEmptyFilterIsRefused() {
        assertThatThrownBy(() -> DeviceStatsMonitor.builder().filterKeys(Set.of()))
                .isInstanceOf(MisconfigurationException.class)
                .hasMessageContaining("filterKeys is empty")
                .hasMessageContaining(DeviceStatsMonitor.PROCESS_RSS_BYTES);
    }
}
