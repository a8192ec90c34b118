package io.github.djllightning.callback;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.djllightning.log.CsvLogger;
import io.github.djllightning.log.DummyLogger;
import io.github.djllightning.trainer.Trainer;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProgressBarTest {

    @TempDir
    Path root;

    /** The smallest bar: the base class's behaviour only. */
    private static final class PlainBar extends ProgressBar {}

    @Test
    void vNumIsTheNumericVersionOrTheLastFourCharacters() {
        assertThat(ProgressBar.versionNumber(CsvLogger.builder(root).version(7).build())).isEqualTo(7);
        assertThat(ProgressBar.versionNumber(CsvLogger.builder(root).version("run-2024-abcdef").build()))
                .isEqualTo("cdef");
        assertThat(ProgressBar.versionNumber(CsvLogger.builder(root).version("ab").build())).isEqualTo("ab");
        assertThat(ProgressBar.versionNumber(CsvLogger.builder(root).version("12345678901").build()))
                .isEqualTo(12345678901L);
        assertThat(ProgressBar.versionNumber(new DummyLogger())).isNull();
        assertThat(ProgressBar.versionNumber(null)).isNull();
    }

    @Test
    void metricsHoldTheVersionOfTheFirstLogger() {
        Trainer trainer = Trainer.builder()
                .defaultRootDir(root)
                .loggers(CsvLogger.builder(root).version(3).build())
                .build();
        Map<String, Object> metrics = new PlainBar().metrics(trainer);
        assertThat(metrics).containsExactly(Map.entry("v_num", 3));
    }

    @Test
    void noLoggerNoVersion() {
        Trainer trainer = Trainer.builder().defaultRootDir(root).logger(false).build();
        assertThat(new PlainBar().metrics(trainer)).isEmpty();
    }

    @Test
    void enableAndDisable() {
        ProgressBar bar = new PlainBar();
        assertThat(bar.isEnabled()).isTrue();
        bar.disable();
        assertThat(bar.isEnabled()).isFalse();
        bar.enable();
        assertThat(bar.isEnabled()).isTrue();
        assertThat(bar.stateKey()).isEqualTo("PlainBar");
    }
}
