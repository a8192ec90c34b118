package io.github.djllightning.examples.guide;

import io.github.djllightning.examples.guide.GuideSnippets.Problem;
import io.github.djllightning.examples.guide.GuideSnippets.SyncResult;
import java.nio.file.Path;

/**
 * Refreshes the guide's Java blocks from their sources: every block of {@code docs/*.md} and {@code README.md} that is
 * marked with {@code <!-- snippet: FILE#NAME -->} gets the current content of that region (see {@link GuideSnippets}).
 * Run it after changing a sample: {@code scripts/run-example.sh sync-guide}.
 *
 * <p>Argument (optional): the repository root; by default the nearest folder above the working directory that holds
 * {@code docs/} and {@code pom.xml}. Prints each block it rewrote, then what it could not fix (blocks without a
 * marker, missing files or regions, broken markers) and exits with status 1 when there is any.
 */
public final class SyncGuide {

    private SyncGuide() {}

    /**
     * Rewrites the blocks.
     *
     * @param args the repository root, optionally
     */
    public static void main(String[] args) {
        if (args.length > 1) {
            System.err.println("usage: SyncGuide [REPOSITORY_ROOT]");
            System.exit(2);
        }
        Path root = args.length == 1 ? Path.of(args[0]) : GuideSnippets.findRoot(Path.of(""));
        SyncResult result = GuideSnippets.sync(root);
        for (String update : result.updated()) {
            System.out.println("updated " + update);
        }
        System.out.println(result.updated().isEmpty() ? "All Java blocks of the guide match their sources."
                : result.updated().size() + " block(s) updated.");
        if (!result.problems().isEmpty()) {
            System.err.println("Not fixed by copying:");
            for (Problem problem : result.problems()) {
                System.err.println("  " + problem);
            }
            System.exit(1);
        }
    }
}
