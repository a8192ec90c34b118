package io.github.djllightning.profile;

import java.util.List;
import java.util.Locale;

/** The profilers that can be named in the Trainer's configuration, as Lightning's {@code Trainer(profiler="simple")}. */
public final class Profilers {

    /** The names {@link #byName} accepts. */
    public static final List<String> NAMES = List.of("simple", "advanced", "pytorch");

    private Profilers() {}

    /**
     * A new profiler with its defaults, by name: {@code simple} ({@link SimpleProfiler}), {@code advanced} ({@link
     * AdvancedProfiler}) or {@code pytorch} ({@link PyTorchProfiler}); case does not matter.
     *
     * @param name the name
     * @return a new profiler
     * @throws IllegalArgumentException naming the valid names when the name is none of them
     */
    public static Profiler byName(String name) {
        String key = name == null ? "" : name.strip().toLowerCase(Locale.ROOT);
        switch (key) {
            case "simple":
                return new SimpleProfiler();
            case "advanced":
                return new AdvancedProfiler();
            case "pytorch":
                return new PyTorchProfiler();
            default:
                throw new IllegalArgumentException("profiler must be one of " + NAMES + ", got '" + name
                        + "'; pass one of these names, or a Profiler instance to profiler(Profiler)");
        }
    }
}
