package io.github.djllightning.examples.guide;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command-line page's application trains from flags and writes the resolved configuration next to the run. */
class CliGuideTest {

    @TempDir
    Path root;

    @Test
    void fitFromFlagsTrainsAndSavesItsConfiguration() throws Exception {
        CliGuide.main(new String[] {"fit", "--trainer.max_epochs=1", "--trainer.limit_train_batches=5",
            "--model.hidden=64", "--data.batch_size=32", "--data.limit=1000", "--data.val_size=200",
            "--trainer.default_root_dir=" + root, "--trainer.enable_progress_bar=false"});
        Path run = root.resolve("lightning_logs/version_0");
        assertThat(run.resolve("checkpoints/epoch=0-step=5.ckpt")).isRegularFile();
        assertThat(Files.readString(run.resolve("config.yaml"))).contains("  hidden: 64\n", "  batch_size: 32\n",
                "  max_epochs: 1\n");
    }

    @Test
    void helpListsTheFlagsOfTheModelAndTheData() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream previous = System.out;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            CliGuide.main(new String[] {"--help"});
        } finally {
            System.setOut(previous);
        }
        assertThat(out.toString(StandardCharsets.UTF_8)).contains("--model.hidden", "--data.batch_size",
                "--trainer.max_epochs");
    }
}
