package io.github.djllightning.cli;

/**
 * One option of the command line and the config files: {@code trainer.max_epochs}, {@code model.hidden}, ...
 *
 * @param key the dotted name; the flag is {@code --key}
 * @param type the value's type
 * @param defaultValue the canonical default, or null
 * @param required whether a value must be given (a component of a hyperparameters record without defaults)
 * @param help one line for {@code --help}
 */
record Option(String key, ValueType type, Object defaultValue, boolean required, String help) {

    /** The flag, {@code --key}. */
    String flag() {
        return "--" + key;
    }

    /** The section, {@code trainer}, {@code model}, {@code data}, or empty for top-level options. */
    String section() {
        int dot = key.indexOf('.');
        return dot < 0 ? "" : key.substring(0, dot);
    }

    /** The name within the section. */
    String name() {
        return key.substring(key.indexOf('.') + 1);
    }
}
