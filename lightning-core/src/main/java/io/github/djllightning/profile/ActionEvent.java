package io.github.djllightning.profile;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/**
 * A Trainer action in a Flight Recorder recording: its name, thread, start and duration. The advanced profiler
 * attributes execution samples to these; JDK Mission Control shows them in the event browser.
 */
@Name(ActionEvent.NAME)
@Label("Trainer Action")
@Category("djl-lightning")
@Description("A hook, step, data fetch or optimizer step run by the Trainer")
@StackTrace(false)
final class ActionEvent extends Event {

    /** The event type's name in recordings. */
    static final String NAME = "io.github.djllightning.Action";

    @Label("Action")
    String action;
}
