package io.github.djllightning.cli;

import io.github.djllightning.module.LightningDataModule;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.trainer.Trainer;
import java.util.Map;

/**
 * What a {@link LightningCLI} run did: the subcommand, the resolved config, and the Trainer, module and data module it
 * built and ran. After {@code --help} or {@code --print_config} nothing is built and only {@link #output()} is set.
 * Closing the result closes the module.
 */
public final class CliResult implements AutoCloseable {

    private final String subcommand;
    private final Map<String, Object> config;
    private final String output;
    private final Trainer trainer;
    private final LightningModule model;
    private final LightningDataModule datamodule;
    private final Object results;

    CliResult(String subcommand, Map<String, Object> config, String output, Trainer trainer, LightningModule model,
            LightningDataModule datamodule, Object results) {
        this.subcommand = subcommand;
        this.config = config;
        this.output = output;
        this.trainer = trainer;
        this.model = model;
        this.datamodule = datamodule;
        this.results = results;
    }

    /** The subcommand ({@code fit}, {@code validate}, {@code test}, {@code predict}), or null after a general help. */
    public String subcommand() {
        return subcommand;
    }

    /** Whether a subcommand ran (false after {@code --help} or {@code --print_config}). */
    public boolean ran() {
        return trainer != null;
    }

    /**
     * The resolved config: sections {@code trainer}, {@code model}, {@code data} (with a data module) of option name
     * to value, and {@code ckpt_path}.
     *
     * @return the config, or null after a help
     */
    public Map<String, Object> config() {
        return config;
    }

    /** What was printed for {@code --help} or {@code --print_config}, else null. */
    public String output() {
        return output;
    }

    /** The Trainer that ran, or null. */
    public Trainer trainer() {
        return trainer;
    }

    /** The module, or null when nothing ran. */
    public LightningModule model() {
        return model;
    }

    /** The data module, or null without one. */
    public LightningDataModule datamodule() {
        return datamodule;
    }

    /**
     * What the Trainer method returned: null for fit, the metrics per loader ({@code List<Map<String, Double>>}) for
     * validate and test, the predictions per loader ({@code List<List<Object>>}) for predict.
     *
     * @return the results
     */
    public Object results() {
        return results;
    }

    /** Closes the module (and with it the arrays of the predictions). */
    @Override
    public void close() {
        if (model != null) {
            model.close();
        }
    }
}
