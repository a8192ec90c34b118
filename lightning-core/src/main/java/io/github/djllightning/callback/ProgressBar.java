package io.github.djllightning.callback;

import io.github.djllightning.log.Logger;
import io.github.djllightning.trainer.Trainer;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.LoggerFactory;

/**
 * The base of every progress bar. The Trainer keeps at most one callback of this type: it adds a {@link
 * TerminalProgressBar} when {@code enableProgressBar} is on and none is given, and refuses one when the flag is off.
 * Lightning's {@code ProgressBar}.
 *
 * <p>A bar shows {@link #metrics(Trainer)}: the logger's version as {@code v_num} and the metrics logged with {@code
 * progBar(true)}. Reading those metrics converts device values, so a bar reads them only when it redraws.
 */
public abstract class ProgressBar implements Callback {

    private static final org.slf4j.Logger LOG = LoggerFactory.getLogger(ProgressBar.class);

    private boolean enabled = true;
    private boolean warnedClash;

    /** Creates an enabled bar. */
    protected ProgressBar() {}

    /** Shows the bar again after {@link #disable()}. */
    public void enable() {
        enabled = true;
    }

    /** Hides the bar, e.g. while a tuner runs trial fits; its hooks then do nothing. */
    public void disable() {
        enabled = false;
    }

    /** Whether the bar is shown. */
    public boolean isEnabled() {
        return enabled;
    }

    /**
     * Prints a message without breaking the bar: a bar drawn in place is moved below the message. Use it for output
     * during a run, e.g. the model summary.
     *
     * @param message the text, printed as one or more lines
     */
    public void print(String message) {
        System.out.println(message);
    }

    /**
     * What the bar shows after the counts: {@code v_num} (the first logger's version: a number when the version is
     * numeric, else its last 4 characters) followed by the metrics logged with {@code progBar(true)}. A logged metric
     * named {@code v_num} replaces the version, with a warning.
     *
     * <p>Reads device values when there are progress bar metrics; call it only when redrawing.
     *
     * @param trainer the trainer
     * @return name to value (numbers or strings), in display order
     */
    public Map<String, Object> metrics(Trainer trainer) {
        Map<String, Object> items = new LinkedHashMap<>();
        Object versionNumber = versionNumber(trainer.logger());
        if (versionNumber != null) {
            items.put("v_num", versionNumber);
        }
        if (trainer.hasProgressBarMetrics()) {
            Map<String, Double> logged = trainer.progressBarMetrics();
            if (versionNumber != null && logged.containsKey("v_num") && !warnedClash) {
                warnedClash = true;
                LOG.warn("The progress bar metric 'v_num' replaces the logger's version on the bar; log it under"
                        + " another name to see both.");
            }
            items.putAll(logged);
        }
        return items;
    }

    /**
     * The {@code v_num} of a logger: its version as a number when numeric, else the last 4 characters, or null when
     * there is no logger or version.
     */
    static Object versionNumber(Logger logger) {
        if (logger == null) {
            return null;
        }
        String version = logger.version();
        if (version == null || version.isEmpty()) {
            return null;
        }
        if (version.length() <= 18 && isDigits(version)) {
            long number = Long.parseLong(version);
            return number <= Integer.MAX_VALUE ? (Object) (int) number : (Object) number;
        }
        return version.length() <= 4 ? version : version.substring(version.length() - 4);
    }

    private static boolean isDigits(String text) {
        for (int i = 0; i < text.length(); i++) {
            if (text.charAt(i) < '0' || text.charAt(i) > '9') {
                return false;
            }
        }
        return true;
    }
}
