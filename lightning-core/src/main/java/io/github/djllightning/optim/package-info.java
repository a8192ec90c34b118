/**
 * Optimizers, gradient clipping and learning-rate schedulers that follow {@code torch.optim}'s formulas and own their
 * state, so that training resumes bit for bit from a checkpoint.
 *
 * <p>DJL's own optimizers keep their moments in private maps keyed by per-process ids, so they cannot be saved.
 * {@link io.github.djllightning.optim.Optimizer} keeps the per-parameter state itself, in a native manager it owns,
 * and exposes it as a {@link io.github.djllightning.checkpoint.StateDict} laid out like torch's
 * {@code optimizer.state_dict()}. {@link io.github.djllightning.optim.OptimizerConfig} is what a module's
 * {@code configureOptimizers()} returns.
 */
package io.github.djllightning.optim;
