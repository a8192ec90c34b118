package io.github.djllightning.examples.guide;

import io.github.djllightning.cli.LightningCLI;
import io.github.djllightning.examples.classifier.LitClassifier;
import io.github.djllightning.examples.cli.MnistDataModule;

/**
 * The command-line page's sample: a whole application, the MNIST classifier and its data module configured by {@link
 * LightningCLI} ({@code fit --trainer.max_epochs=1 --model.hidden=64 --data.batch_size=32}).
 */
public final class CliGuide {

    private CliGuide() {}

    /**
     * Runs a subcommand.
     *
     * @param args a subcommand and its flags
     */
    // snippet:main
    public static void main(String[] args) {
        int code = LightningCLI.builder(LitClassifier.class).datamodule(MnistDataModule.class).build().execute(args);
        if (code != 0) {
            System.exit(code);   // 2: a usage error, 1: another failure; the library itself never exits
        }
    }
    // end-snippet:main
}
