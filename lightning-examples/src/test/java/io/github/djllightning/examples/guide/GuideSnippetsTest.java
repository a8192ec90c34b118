package io.github.djllightning.examples.guide;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.djllightning.examples.guide.GuideSnippets.Problem;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The guide's code is compiled code: every {@code ```java} block of {@code docs/*.md} and {@code README.md} is a
 * marked region of a source under {@code lightning-examples/src/main/java} and equals it; and the pages' relative
 * links lead to files that exist.
 */
class GuideSnippetsTest {

    /**
     * Guide pages that are linked before they are written; a link to one of these is not reported while the page does
     * not exist. Remove this list once they all exist.
     */
    private static final Pattern LINK = Pattern.compile("\\]\\(([^)\\s]+)(?:\\s+\"[^\"]*\")?\\)");
    private static final Pattern CODE_SPAN = Pattern.compile("`[^`]*`");

    private final Path root = GuideSnippets.findRoot(Path.of(""));

    @Test
    void everyJavaBlockIsTheCurrentCopyOfAMarkedSourceRegion() {
        List<Problem> problems = GuideSnippets.check(root);
        assertThat(problems)
                .withFailMessage(() -> "The guide's Java blocks are out of step with their sources:\n  "
                        + problems.stream().map(Problem::toString).collect(Collectors.joining("\n  "))
                        + "\nRun " + GuideSnippets.SYNC_COMMAND + " to copy every marked region into its block;"
                        + " mark new blocks first (see GuideSnippets).")
                .isEmpty();
    }

    @Test
    void relativeLinksOfThePagesLeadToFilesThatExist() throws Exception {
        List<String> broken = new ArrayList<>();
        for (Path page : GuideSnippets.pages(root)) {
            List<String> lines = Files.readAllLines(page);
            boolean inCode = false;
            for (int i = 0; i < lines.size(); i++) {
                String line = lines.get(i);
                if (line.strip().startsWith("```")) {
                    inCode = !inCode;
                    continue;
                }
                if (inCode) {
                    continue;
                }
                Matcher link = LINK.matcher(CODE_SPAN.matcher(line).replaceAll(""));
                while (link.find()) {
                    String target = link.group(1);
                    if (target.matches("^[a-z]+:.*") || target.startsWith("#")) {
                        continue;
                    }
                    Path file = page.getParent().resolve(target.replaceFirst("#.*$", "")).normalize();
                    if (!Files.exists(file)) {
                        broken.add(root.relativize(page) + ":" + (i + 1) + ": " + target);
                    }
                }
            }
        }
        assertThat(broken).as("links to files that do not exist (page:line: target)").isEmpty();
    }
}
