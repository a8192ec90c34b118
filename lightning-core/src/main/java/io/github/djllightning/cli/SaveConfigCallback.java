package io.github.djllightning.cli;

import io.github.djllightning.callback.Callback;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.trainer.Trainer;
import io.github.djllightning.trainer.TrainerFn;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Saves the resolved config of a {@link LightningCLI} run as {@code config.yaml} in the run's log folder ({@link
 * Trainer#logDir()}) when the run is set up, so the run can be repeated with {@code --config} that file. An existing
 * file is never overwritten silently: the run fails before its first step, naming the file, unless overwriting is
 * allowed.
 */
public class SaveConfigCallback implements Callback {

    /** The file name Lightning uses. */
    public static final String FILE_NAME = "config.yaml";

    private final String yaml;
    private final boolean overwrite;
    private boolean saved;

    /**
     * Creates the callback.
     *
     * @param yaml the config, as YAML
     * @param overwrite whether an existing {@code config.yaml} may be replaced
     */
    public SaveConfigCallback(String yaml, boolean overwrite) {
        this.yaml = yaml;
        this.overwrite = overwrite;
    }

    /** Writes the config once, at the first setup of the Trainer. */
    @Override
    public void setup(Trainer trainer, LightningModule module, TrainerFn stage) {
        if (saved) {
            return;
        }
        Path file = trainer.logDir().resolve(FILE_NAME);
        if (!overwrite && Files.exists(file)) {
            throw new CliException("SaveConfigCallback: " + file.toAbsolutePath() + " already exists; not"
                    + " overwriting the config of an earlier run. Delete it, point the run elsewhere"
                    + " (--trainer.default_root_dir), or allow overwriting with"
                    + " LightningCLI.builder(...).overwriteConfig(true).", CliException.FAILURE);
        }
        try {
            Files.createDirectories(file.getParent());
            Files.writeString(file, yaml, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                    StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new UncheckedIOException("SaveConfigCallback could not write " + file + ": " + e.getMessage(), e);
        }
        saved = true;
        saveConfig(trainer, module, stage);
    }

    /**
     * Saves the config somewhere else too (a logger, an experiment tracker); called once after {@code config.yaml}
     * is written. Does nothing by default.
     *
     * @param trainer the Trainer
     * @param module the module
     * @param stage the stage being set up
     */
    protected void saveConfig(Trainer trainer, LightningModule module, TrainerFn stage) {}

    /** The config this callback saves, as YAML. */
    public String yaml() {
        return yaml;
    }
}
