package io.github.djllightning.starter;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.djllightning.data.MnistDataset;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a user of the published artifacts gets: the installed POMs, jars and sources jars carry what a repository and
 * the module system need, and {@code templates/starter}, copied out of this repository, builds with plain Maven
 * offline against the installed artifacts alone and trains on MNIST.
 *
 * <p>Runs only after {@code mvn install} of this reactor (the README's test command does that); under {@code mvn
 * verify} the local repository holds no fresh copy of the modules and the tests are skipped.
 */
class StarterTemplateTest {

    private static final String GROUP_PATH = "io/github/djllightning";
    private static final List<String> LIBRARIES = List.of("core", "callbacks", "loggers");

    private static Path template;
    private static Path reactorRoot;
    private static String version;
    private static Path repository;
    private static Path mavenHome;

    @BeforeAll
    static void readBuildSettings() {
        template = Path.of(System.getProperty("starter.template")).toAbsolutePath().normalize();
        reactorRoot = Path.of(System.getProperty("starter.reactorRoot")).toAbsolutePath().normalize();
        version = System.getProperty("starter.version");
        repository = Path.of(System.getProperty("starter.localRepository")).toAbsolutePath();
        mavenHome = Path.of(System.getProperty("starter.mavenHome"));
    }

    @BeforeEach
    void requireInstalledModules() throws IOException {
        Path built = reactorRoot.resolve("lightning-core/target/lightning-core-" + version + ".jar");
        Path installed = artifact("lightning-core", ".jar");
        Assumptions.assumeTrue(Files.isRegularFile(built) && Files.isRegularFile(installed)
                        && Arrays.equals(Files.readAllBytes(built), Files.readAllBytes(installed)),
                "the local repository " + repository + " holds no copy of this build's lightning-core; run `mvn "
                        + "install` (scripts/run-tests.sh does) to check the starter template against it");
    }

    @Test
    void installedArtifactsCarryMetadataSourcesAndModuleNames() throws IOException {
        String parent = Files.readString(repository.resolve(
                GROUP_PATH + "/djl-lightning-parent/" + version + "/djl-lightning-parent-" + version + ".pom"));
        String bom = Files.readString(artifact("lightning-bom", ".pom"));
        for (String pom : List.of(parent, bom)) {
            assertThat(pom).contains("<url>https://github.com/djl-lightning/djl-lightning</url>",
                    "<name>Apache License, Version 2.0</name>", "<scm>", "<developers>", "<description>");
        }
        for (String library : LIBRARIES) {
            String artifactId = "lightning-" + library;
            assertThat(Files.readString(artifact(artifactId, ".pom")))
                    .as(artifactId + " POM").contains("<name>", "<description>", "<artifactId>djl-lightning-parent<");
            try (JarFile jar = new JarFile(artifact(artifactId, ".jar").toFile())) {
                assertThat(jar.getManifest().getMainAttributes().getValue("Automatic-Module-Name"))
                        .as(artifactId + " Automatic-Module-Name").isEqualTo("io.github.djllightning." + library);
            }
            try (JarFile sources = new JarFile(artifact(artifactId, "-sources.jar").toFile())) {
                assertThat(sources.stream().anyMatch(e -> e.getName().endsWith(".java")))
                        .as(artifactId + " sources jar has .java files").isTrue();
            }
        }
    }

    @Test
    void copiedTemplateBuildsOfflineAndTrainsOnMnist(@TempDir Path tmp) throws Exception {
        Path mnist = MnistDataset.defaultRoot().toAbsolutePath();
        assertThat(mnist.resolve("train-images-idx3-ubyte"))
                .as("MNIST in %s (scripts/fetch-mnist.sh fetches it, or set MNIST_DIR)", mnist).isRegularFile();
        Path project = tmp.resolve("my-project");
        copyTemplate(project);
        assertThat(Files.readString(project.resolve("pom.xml")))
                .as("templates/starter/pom.xml names this build's version")
                .contains("<djl-lightning.version>" + version + "</djl-lightning.version>");

        boolean windows = System.getProperty("os.name").toLowerCase().startsWith("windows");
        Path mvn = mavenHome.resolve("bin").resolve(windows ? "mvn.cmd" : "mvn");
        ProcessBuilder builder = new ProcessBuilder(mvn.toString(), "-B", "-ntp", "-o",
                "-Dmaven.repo.local=" + repository, "test")
                .directory(project.toFile())
                .redirectErrorStream(true)
                .redirectOutput(tmp.resolve("build.log").toFile());
        builder.environment().put("MNIST_DIR", mnist.toString());
        Process process = builder.start();
        boolean finished = process.waitFor(5, TimeUnit.MINUTES);
        if (!finished) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
        }
        String log = Files.readString(tmp.resolve("build.log"), StandardCharsets.UTF_8);
        assertThat(finished).as("the template's build finished within 5 minutes; its log:%n%s", log).isTrue();
        assertThat(process.exitValue()).as("mvn -o test in the copied template; its log:%n%s", log).isZero();

        Matcher startup = Pattern.compile("start-up to first step: (\\d+) ms.*").matcher(log);
        assertThat(startup.find()).as("the run printed its start-up time; log:%n%s", log).isTrue();
        System.out.println("starter template: " + startup.group());

        Path run = project.resolve("target/main-test-run/lightning_logs/version_0");
        try (Stream<Path> files = Files.list(run.resolve("checkpoints"))) {
            assertThat(files.map(p -> p.getFileName().toString())).anyMatch(name -> name.endsWith(".ckpt"));
        }
        assertThat(run.resolve("hparams.yaml")).isRegularFile();
        List<Double> losses = column(run.resolve("metrics.csv"), "train_loss");
        assertThat(losses).as("train_loss rows").hasSizeGreaterThanOrEqualTo(2);
        assertThat(losses.get(losses.size() - 1)).as("last train_loss vs first, %s", losses).isLessThan(losses.get(0));
        assertThat(column(run.resolve("metrics.csv"), "val_accuracy")).as("val_accuracy").isNotEmpty();
    }

    private static Path artifact(String artifactId, String suffix) {
        return repository.resolve(GROUP_PATH + "/" + artifactId + "/" + version + "/" + artifactId + "-" + version
                + suffix);
    }

    /** Copies the template as a user would, without any build output left in it. */
    private static void copyTemplate(Path target) throws IOException {
        try (Stream<Path> paths = Files.walk(template)) {
            for (Path source : paths.toList()) {
                Path relative = template.relativize(source);
                if (relative.startsWith("target")) {
                    continue;
                }
                Path destination = target.resolve(relative.toString());
                if (Files.isDirectory(source)) {
                    Files.createDirectories(destination);
                } else {
                    Files.copy(source, destination, StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
        }
    }

    /** The non-empty values of one column of a CSV file written by the CSV logger, in row order. */
    private static List<Double> column(Path csv, String name) throws IOException {
        List<String> lines = Files.readAllLines(csv);
        int index = Arrays.asList(lines.get(0).split(",", -1)).indexOf(name);
        assertThat(index).as("column %s in %s", name, lines.get(0)).isNotNegative();
        List<Double> values = new ArrayList<>();
        for (String line : lines.subList(1, lines.size())) {
            String[] cells = line.split(",", -1);
            if (index < cells.length && !cells[index].isEmpty()) {
                values.add(Double.parseDouble(cells[index]));
            }
        }
        return values;
    }
}
