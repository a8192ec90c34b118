/**
 * Profilers: what each Trainer action costs. {@link io.github.djllightning.profile.Profiler} is the contract the
 * Trainer calls around every hook, step, data fetch and optimizer step; {@link
 * io.github.djllightning.profile.SimpleProfiler} times them, {@link io.github.djllightning.profile.AdvancedProfiler}
 * records the run with Java Flight Recorder and names the hottest methods of each action, and {@link
 * io.github.djllightning.profile.PyTorchProfiler} traces every PyTorch operator. {@link
 * io.github.djllightning.profile.Profilers#byName} maps the names the Trainer's builder accepts.
 */
package io.github.djllightning.profile;
