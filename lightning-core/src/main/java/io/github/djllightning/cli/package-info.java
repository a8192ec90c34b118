/**
 * Lightning's command line: {@link io.github.djllightning.cli.LightningCLI} builds the Trainer, the module and the
 * data module of a run from {@code --trainer.*}, {@code --model.*} and {@code --data.*} flags and YAML config files,
 * runs {@code fit}, {@code validate}, {@code test} or {@code predict}, and saves the resolved config next to the run's
 * logs ({@link io.github.djllightning.cli.SaveConfigCallback}).
 */
package io.github.djllightning.cli;
