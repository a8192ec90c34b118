package io.github.djllightning.examples.cli;

import io.github.djllightning.cli.LightningCLI;
import io.github.djllightning.examples.classifier.LitClassifier;

/**
 * The seed's command-line section with {@link LightningCLI}: the MNIST classifier and its data module, configured from
 * flags and YAML files.
 *
 * <pre>
 * scripts/run-example.sh cli fit --trainer.max_epochs=1 --model.hidden=64 --data.batch_size=32
 * scripts/run-example.sh cli fit --print_config &gt; mnist.yaml
 * scripts/run-example.sh cli fit --config mnist.yaml --trainer.limit_train_batches 0.1
 * scripts/run-example.sh cli test --ckpt_path lightning_logs/version_0/checkpoints/last.ckpt
 * scripts/run-example.sh cli --help
 * </pre>
 */
public final class ClassifierCli {

    private ClassifierCli() {}

    /**
     * The command line for the classifier.
     *
     * @return the command line
     */
    public static LightningCLI cli() {
        return LightningCLI.builder(LitClassifier.class).datamodule(MnistDataModule.class)
                .programName("run-example.sh cli").build();
    }

    /**
     * Runs the command line; exits with status 2 for a usage error and 1 for another failure.
     *
     * @param args a subcommand and options
     */
    public static void main(String[] args) {
        int code = cli().execute(args);
        if (code != 0) {
            System.exit(code);
        }
    }
}
