/**
 * Tuning before training: a learning-rate range test and a search for the largest batch size that fits in memory.
 *
 * <ul>
 *   <li>{@link io.github.djllightning.tuner.Tuner} runs them on a module, following a Trainer's configuration;
 *   <li>{@link io.github.djllightning.tuner.LrFinderOptions} and {@link io.github.djllightning.tuner.BatchSizeOptions}
 *       hold Lightning's arguments and defaults; {@link io.github.djllightning.tuner.LrFinderResult} and {@link
 *       io.github.djllightning.tuner.BatchSizeResult} what the searches found;
 *   <li>{@link io.github.djllightning.tuner.HasLearningRate} and {@link io.github.djllightning.tuner.HasBatchSize}
 *       are how a module or data module lets the tuner set the value, the typed alternative to a hyperparameter.
 * </ul>
 *
 * <p>The callbacks {@code io.github.djllightning.callbacks.LearningRateFinder} and {@code BatchSizeFinder} run the
 * same searches at the start of a fit.
 */
package io.github.djllightning.tuner;
