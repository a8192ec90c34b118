package io.github.djllightning;

/** The library's version, written into checkpoints and logs. */
public final class Version {

    /** The version of this build. */
    public static final String VERSION = "0.1.0-SNAPSHOT";

    private Version() {}
}
