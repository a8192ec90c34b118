/**
 * Experiment loggers beyond the CSV logger of core: {@link io.github.djllightning.loggers.TensorBoardLogger} writes
 * TensorBoard event files and becomes the Trainer's default logger when this module is on the class path.
 */
package io.github.djllightning.loggers;
