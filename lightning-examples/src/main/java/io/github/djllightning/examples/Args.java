package io.github.djllightning.examples;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Parses the {@code --name value} arguments of the examples, rejecting unknown names with the list of known ones. */
public final class Args {

    private Args() {}

    /**
     * Parses arguments.
     *
     * @param args the command line
     * @param known the accepted names, without dashes
     * @return name to value
     * @throws IllegalArgumentException for an unknown name or a missing value
     */
    public static Map<String, String> parse(String[] args, List<String> known) {
        Map<String, String> out = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (!arg.startsWith("--")) {
                throw new IllegalArgumentException("Unexpected argument '" + arg + "'; options are --" + String.join(
                        ", --", known));
            }
            String name = arg.substring(2);
            String value;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                value = name.substring(eq + 1);
                name = name.substring(0, eq);
            } else if (i + 1 < args.length) {
                value = args[++i];
            } else {
                throw new IllegalArgumentException("Option --" + name + " needs a value");
            }
            if (!known.contains(name)) {
                throw new IllegalArgumentException("Unknown option --" + name + "; options are --" + String.join(
                        ", --", known));
            }
            out.put(name, value);
        }
        return out;
    }

    /**
     * An integer argument.
     *
     * @param options the parsed arguments
     * @param name the name, without dashes
     * @param defaultValue the value when the argument is not given
     * @return the value
     * @throws IllegalArgumentException naming the argument when its value is not an integer
     */
    public static int intValue(Map<String, String> options, String name, int defaultValue) {
        String value = options.get(name);
        if (value == null) {
            return defaultValue;
        }
        try {
            return Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("Option --" + name + " takes an integer, got '" + value + "'");
        }
    }
}
