package io.github.djllightning.log;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.Yaml;

class CsvLoggerTest {

    @TempDir
    Path root;

    private static Map<String, Double> metrics(Object... keyValues) {
        Map<String, Double> out = new LinkedHashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            out.put((String) keyValues[i], ((Number) keyValues[i + 1]).doubleValue());
        }
        return out;
    }

    private static List<String> lines(Path file) throws IOException {
        return Files.readAllLines(file, StandardCharsets.UTF_8);
    }

    @Test
    void firstVersionInAnEmptyFolderIsZero() {
        CsvLogger logger = new CsvLogger(root);
        assertThat(logger.version()).isEqualTo("0");
        assertThat(logger.name()).isEqualTo("lightning_logs");
        assertThat(logger.saveDir()).isEqualTo(root);
        assertThat(logger.logDir()).isEqualTo(root.resolve("lightning_logs").resolve("version_0"));
        assertThat(logger.logDir()).doesNotExist();
    }

    @Test
    void nextVersionFollowsTheHighestExistingOne() throws IOException {
        Files.createDirectories(root.resolve("lightning_logs/version_0"));
        Files.createDirectories(root.resolve("lightning_logs/version_3"));
        Files.createDirectories(root.resolve("lightning_logs/version_x"));
        Files.createDirectories(root.resolve("lightning_logs/other_9"));
        Files.createFile(root.resolve("lightning_logs/version_7"));
        CsvLogger logger = new CsvLogger(root);
        assertThat(logger.version()).isEqualTo("4");
        assertThat(logger.logDir()).isEqualTo(root.resolve("lightning_logs/version_4"));
    }

    @Test
    void versionIsFixedAtFirstUse() throws IOException {
        CsvLogger logger = new CsvLogger(root);
        assertThat(logger.logDir()).isEqualTo(root.resolve("lightning_logs/version_0"));
        Files.createDirectories(root.resolve("lightning_logs/version_0"));
        Files.createDirectories(root.resolve("lightning_logs/version_5"));
        assertThat(logger.version()).isEqualTo("0");
        assertThat(new CsvLogger(root).version()).isEqualTo("6");
    }

    @Test
    void explicitVersionsAndNames() {
        CsvLogger numbered = CsvLogger.builder(root).version(3).build();
        assertThat(numbered.version()).isEqualTo("3");
        assertThat(numbered.logDir()).isEqualTo(root.resolve("lightning_logs/version_3"));

        CsvLogger named = CsvLogger.builder(root).name("mnist").version("run-a").build();
        assertThat(named.version()).isEqualTo("run-a");
        assertThat(named.logDir()).isEqualTo(root.resolve("mnist/run-a"));

        CsvLogger flat = CsvLogger.builder(root).name("").build();
        assertThat(flat.name()).isEmpty();
        assertThat(flat.logDir()).isEqualTo(root.resolve("version_0"));
        assertThat(CsvLogger.builder(root).name(null).build().logDir()).isEqualTo(root.resolve("version_0"));
    }

    @Test
    void badVersionsAreRejected() {
        assertThatThrownBy(() -> CsvLogger.builder(root).version(-1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("-1");
        assertThatThrownBy(() -> CsvLogger.builder(root).version("a/b"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("a/b");
        assertThatThrownBy(() -> CsvLogger.builder(null)).isInstanceOf(NullPointerException.class);
    }

    @Test
    void writesSortedHeaderSparseRowsAndLightningNumbers() throws IOException {
        CsvLogger logger = new CsvLogger(root);
        logger.logMetrics(metrics("lr-SGD", 0.1), 0);
        logger.save();
        logger.logMetrics(metrics("train_loss_step", 1.8078, "plain", 1.8078, "epoch", 0), 1);
        logger.logMetrics(metrics("val_loss", 0.6065, "epoch", 0), 4);
        logger.logMetrics(metrics("train_loss_epoch", 1.1079, "epoch", 0), 4);
        logger.logMetrics(metrics("lr-SGD", 0.010000000000000002), 5);
        logger.logMetrics(metrics("plain", 1e-05, "train_loss_step", Double.NaN, "epoch", 1), 5);
        logger.logMetrics(metrics("plain", Double.POSITIVE_INFINITY, "train_loss_step", 1.0, "epoch", 1), 7);
        logger.save();

        Path file = logger.logDir().resolve("metrics.csv");
        assertThat(lines(file)).containsExactly(
                "epoch,lr-SGD,plain,step,train_loss_epoch,train_loss_step,val_loss",
                ",0.1,,0,,,",
                "0,,1.8078,1,,1.8078,",
                "0,,,4,,,0.6065",
                "0,,,4,1.1079,,",
                ",0.010000000000000002,,5,,,",
                "1,,1e-05,5,,nan,",
                "1,,inf,7,,1.0,");
    }

    @Test
    void headerGrowthRewritesTheFileKeepingAndRemappingRows() throws IOException {
        CsvLogger logger = new CsvLogger(root);
        logger.logMetrics(metrics("b", 2.0), 0);
        logger.save();
        Path file = logger.logDir().resolve("metrics.csv");
        assertThat(lines(file)).containsExactly("b,step", "2.0,0");

        logger.logMetrics(metrics("b", 3.0), 1);
        logger.save();
        assertThat(lines(file)).containsExactly("b,step", "2.0,0", "3.0,1");

        logger.logMetrics(metrics("a", 0.5, "c", 0.25), 2);
        logger.save();
        assertThat(lines(file)).containsExactly("a,b,c,step", ",2.0,,0", ",3.0,,1", "0.5,,0.25,2");
        try (Stream<Path> files = Files.list(logger.logDir())) {
            assertThat(files.map(p -> p.getFileName().toString()).collect(Collectors.toList()))
                    .containsExactly("metrics.csv");
        }
    }

    @Test
    void saveWithoutRowsWritesNothing() {
        CsvLogger logger = new CsvLogger(root);
        logger.save();
        logger.finish("success");
        assertThat(root.resolve("lightning_logs")).doesNotExist();
    }

    @Test
    void prefixIsJoinedWithADash() throws IOException {
        CsvLogger logger = CsvLogger.builder(root).prefix("fold1").build();
        assertThat(logger.prefix()).isEqualTo("fold1");
        logger.logMetrics(metrics("loss", 0.5, "epoch", 2), 10);
        logger.finish("success");
        assertThat(lines(logger.logDir().resolve("metrics.csv")))
                .containsExactly("fold1-epoch,fold1-loss,step", "2,0.5,10");
    }

    @Test
    void resumingIntoAnExistingVersionAppendsAndNeverDeletes() throws IOException {
        CsvLogger first = CsvLogger.builder(root).version(0).build();
        first.logMetrics(metrics("loss", 1.0, "epoch", 0), 0);
        first.logMetrics(metrics("loss", 0.5, "epoch", 0), 1);
        first.finish("success");
        Path file = first.logDir().resolve("metrics.csv");

        // a resumed run: same version, same columns -> plain append
        CsvLogger resumed = CsvLogger.builder(root).version(0).build();
        resumed.logMetrics(metrics("loss", 0.25, "epoch", 1), 2);
        resumed.save();
        assertThat(lines(file)).containsExactly("epoch,loss,step", "0,1.0,0", "0,0.5,1", "1,0.25,2");

        // another run in that version with a new column -> widened, old rows kept
        CsvLogger widened = CsvLogger.builder(root).version(0).build();
        widened.logMetrics(metrics("acc", 0.9, "epoch", 2), 3);
        widened.finish("success");
        assertThat(lines(file)).containsExactly(
                "acc,epoch,loss,step", ",0,1.0,0", ",0,0.5,1", ",1,0.25,2", "0.9,2,,3");
    }

    @Test
    void resumeKeepsAForeignColumnOrderWhenNoColumnIsNew() throws IOException {
        Path dir = root.resolve("lightning_logs/version_2");
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("metrics.csv"), "step,loss,epoch\r\n0,1.5,0\r\n1,1.25,0");
        CsvLogger logger = CsvLogger.builder(root).version(2).build();
        logger.logMetrics(metrics("loss", 1.0, "epoch", 1), 2);
        logger.save();
        assertThat(lines(dir.resolve("metrics.csv")))
                .containsExactly("step,loss,epoch", "0,1.5,0", "1,1.25,0", "2,1.0,1");

        logger.logMetrics(metrics("acc", 0.5), 3);
        logger.save();
        assertThat(lines(dir.resolve("metrics.csv")))
                .containsExactly("acc,epoch,loss,step", ",0,1.5,0", ",0,1.25,1", ",1,1.0,2", "0.5,,,3");
    }

    @Test
    void hyperparametersAreMergedIntoYaml() throws IOException {
        CsvLogger logger = new CsvLogger(root);
        Map<String, Object> first = new LinkedHashMap<>();
        first.put("lr", 0.001);
        first.put("batch_size", 32);
        first.put("layers", List.of(64, 3));
        first.put("name", "autoencoder");
        first.put("nested", Map.of("dropout", 0.1));
        first.put("path", Path.of("data", "mnist"));
        first.put("object", new Object() {
            @Override
            public String toString() {
                return "custom-object";
            }
        });
        logger.logHyperparams(first);
        Path file = logger.logDir().resolve("hparams.yaml");
        assertThat(file).exists();
        assertThat(Files.readString(file)).contains("lr: 0.001").contains("layers:\n- 64\n- 3");

        logger.logHyperparams(Map.of("lr", 0.01, "shuffle", true));
        Map<String, Object> read;
        try (Reader reader = Files.newBufferedReader(file)) {
            read = new Yaml().load(reader);
        }
        assertThat(read).containsEntry("lr", 0.01)
                .containsEntry("batch_size", 32)
                .containsEntry("layers", List.of(64, 3))
                .containsEntry("name", "autoencoder")
                .containsEntry("nested", Map.of("dropout", 0.1))
                .containsEntry("path", Path.of("data", "mnist").toString())
                .containsEntry("object", "custom-object")
                .containsEntry("shuffle", true);
        assertThat(logger.hyperparams()).containsEntry("lr", 0.01).containsEntry("shuffle", true);
        try (Stream<Path> files = Files.list(logger.logDir())) {
            assertThat(files.map(p -> p.getFileName().toString()).collect(Collectors.toList()))
                    .containsExactly("hparams.yaml");
        }
    }

    @Test
    void appendToAFileWithoutFinalNewlineStartsANewLine() throws IOException {
        Path dir = root.resolve("lightning_logs/version_0");
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("metrics.csv"), "loss,step\n1.0,0");
        CsvLogger logger = CsvLogger.builder(root).version(0).build();
        logger.logMetrics(metrics("loss", 2.0), 1);
        logger.save();
        logger.logMetrics(metrics("loss", 3.0), 2);
        logger.save();
        assertThat(lines(dir.resolve("metrics.csv"))).containsExactly("loss,step", "1.0,0", "2.0,1", "3.0,2");
    }

    @Test
    void emptyExistingFileGetsAHeader() throws IOException {
        Path dir = root.resolve("lightning_logs/version_0");
        Files.createDirectories(dir);
        Files.createFile(dir.resolve("metrics.csv"));
        CsvLogger logger = CsvLogger.builder(root).version(0).build();
        logger.logMetrics(metrics("loss", 2.0), 1);
        logger.save();
        assertThat(lines(dir.resolve("metrics.csv"))).containsExactly("loss,step", "2.0,1");
    }

    @Test
    void metricNamesWithCommasAreQuoted() throws IOException {
        CsvLogger logger = new CsvLogger(root);
        logger.logMetrics(metrics("a,b", 1.0), 0);
        logger.save();
        logger.logMetrics(metrics("c", 1.0), 1);
        logger.save();
        assertThat(lines(logger.logDir().resolve("metrics.csv")))
                .containsExactly("\"a,b\",c,step", "1.0,,0", ",1.0,1");
    }

    @Test
    void aFileRemovedBetweenSavesIsWrittenAgainWithItsHeader() throws IOException {
        CsvLogger logger = new CsvLogger(root);
        logger.logMetrics(metrics("loss", 1.0), 0);
        logger.save();
        Path file = logger.logDir().resolve("metrics.csv");
        Files.delete(file);
        logger.logMetrics(metrics("loss", 0.5), 1);
        logger.save();
        assertThat(lines(file)).containsExactly("loss,step", "0.5,1");
    }
}
