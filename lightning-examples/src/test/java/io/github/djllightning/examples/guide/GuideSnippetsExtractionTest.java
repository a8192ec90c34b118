package io.github.djllightning.examples.guide;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.djllightning.examples.guide.GuideSnippets.Block;
import io.github.djllightning.examples.guide.GuideSnippets.Problem;
import io.github.djllightning.examples.guide.GuideSnippets.Regions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** How regions are cut out of sources and matched with the blocks of a page, on small texts. */
class GuideSnippetsExtractionTest {

    @TempDir
    Path root;

    private static List<String> lines(String text) {
        return text.lines().toList();
    }

    @Test
    void nestedRegionsDropTheInnerMarkersAndLoseTheirCommonIndentation() {
        Regions parsed = GuideSnippets.regions("A.java", lines("""
                class A {
                    // snippet:outer
                    void a() {
                        // snippet:inner
                        int x = 1;

                        int y = 2;
                        // end-snippet:inner
                    }

                    // end-snippet:outer
                }
                """));
        assertThat(parsed.problems()).isEmpty();
        assertThat(parsed.regions()).containsOnlyKeys("outer", "inner");
        assertThat(parsed.regions().get("outer").content())
                .containsExactly("void a() {", "    int x = 1;", "", "    int y = 2;", "}");
        assertThat(parsed.regions().get("inner").content()).containsExactly("int x = 1;", "", "int y = 2;");
        assertThat(parsed.regions().get("inner").openLine()).isEqualTo(4);
    }

    @Test
    void overlappingRegionsShareTheirCommonLines() {
        Regions parsed = GuideSnippets.regions("B.java", lines("""
                  // snippet:first
                  int a = 1;
                  // snippet:second
                  int b = 2;
                  // end-snippet:first
                  int c = 3;
                  // end-snippet:second
                """));
        assertThat(parsed.problems()).isEmpty();
        assertThat(parsed.regions().get("first").content()).containsExactly("int a = 1;", "int b = 2;");
        assertThat(parsed.regions().get("second").content()).containsExactly("int b = 2;", "int c = 3;");
    }

    @Test
    void brokenMarkersAreReportedWithTheirLines() {
        Regions parsed = GuideSnippets.regions("C.java", lines("""
                // snippet:open
                int a;
                // end-snippet:stray
                // snippet:twice
                // end-snippet:twice
                // snippet:twice
                // end-snippet:twice
                //snippet:glued
                // snippet:ok trailing words
                """));
        assertThat(parsed.problems()).extracting(Problem::line).containsExactlyInAnyOrder(1, 3, 6, 7, 8, 9);
        assertThat(parsed.problems()).map(Problem::toString)
                .anyMatch(p -> p.startsWith("C.java:1: region 'open' is opened and never closed"))
                .anyMatch(p -> p.startsWith("C.java:3: '// end-snippet:stray' closes no open region"))
                .anyMatch(p -> p.startsWith("C.java:6: region 'twice' is opened again (first at line 4)"))
                .anyMatch(p -> p.startsWith("C.java:8: this comment looks like a snippet marker"));
        assertThat(parsed.regions()).containsOnlyKeys("twice");
    }

    @Test
    void pagesYieldMarkedBlocksIndentedOrNotAndReportUnmarkedOnes() {
        List<Problem> problems = new ArrayList<>();
        List<Block> blocks = GuideSnippets.blocks("page.md", lines("""
                # Page
                <!-- snippet: lightning-examples/src/main/java/x/S.java#one -->
                ```java
                int a = 1;
                ```

                1. A step:

                   <!-- snippet: lightning-examples/src/main/java/x/S.java#two -->
                   ```java
                   if (a) {
                       b();
                   }
                   ```

                ```bash
                <!-- snippet: not/a/marker/inside/another/block.java#x -->
                ```

                ```java
                unmarked();
                ```

                <!-- snippet: lightning-examples/src/main/java/x/S.java#three -->

                ```java
                late();
                ```
                """), problems);
        assertThat(blocks).extracting(Block::region).containsExactly("one", "two");
        assertThat(blocks.get(0).lines()).containsExactly("int a = 1;");
        assertThat(blocks.get(0).markerLine()).isEqualTo(2);
        assertThat(blocks.get(1).indent()).isEqualTo("   ");
        assertThat(blocks.get(1).lines()).containsExactly("if (a) {", "    b();", "}");
        assertThat(problems).map(Problem::toString).containsExactly(
                "page.md:20: this ```java block has no snippet marker; put a line '<!-- snippet:"
                        + " lightning-examples/src/main/java/.../File.java#NAME -->' right before it, naming a region"
                        + " of compiled code (see GuideSnippets).",
                "page.md:24: the snippet marker is not directly followed by a ```java line; remove it or put the"
                        + " block right after it.",
                "page.md:26: this ```java block has no snippet marker; put a line '<!-- snippet:"
                        + " lightning-examples/src/main/java/.../File.java#NAME -->' right before it, naming a region"
                        + " of compiled code (see GuideSnippets).");
    }

    @Test
    void checkNamesTheFirstDifferenceAndSyncRewritesTheBlocks() throws Exception {
        Files.writeString(root.resolve("pom.xml"), "<project/>\n");
        Path source = root.resolve(GuideSnippets.SOURCE_ROOT).resolve("x/S.java");
        Files.createDirectories(source.getParent());
        Files.writeString(source, """
                class S {
                    void m() {
                        // snippet:body
                        int a = 1;
                        int b = 2;
                        // end-snippet:body
                    }
                }
                """);
        Path docs = Files.createDirectories(root.resolve("docs"));
        String marker = "<!-- snippet: " + GuideSnippets.SOURCE_ROOT + "/x/S.java#body -->";
        Files.writeString(docs.resolve("page.md"), "Intro\n\n" + marker + "\n```java\nint a = 1;\nint b = 3;\n```\n"
                + "\n- item\n\n  " + marker + "\n  ```java\n  int a = 1;\n  ```\n\n"
                + "<!-- snippet: " + GuideSnippets.SOURCE_ROOT + "/x/S.java#missing -->\n```java\nx();\n```\n"
                + "<!-- snippet: " + GuideSnippets.SOURCE_ROOT + "/x/Gone.java#body -->\n```java\nx();\n```\n");

        assertThat(GuideSnippets.check(root)).map(Problem::toString).containsExactly(
                "docs/page.md:3: the ```java block differs from " + GuideSnippets.SOURCE_ROOT + "/x/S.java#body:"
                        + " first at line 2 of the block: the page has \"int b = 3;\", the source has \"int b = 2;\"."
                        + " Run scripts/run-example.sh sync-guide to copy the region into the page (or fix the"
                        + " source, if the page was right).",
                "docs/page.md:11: the ```java block differs from " + GuideSnippets.SOURCE_ROOT + "/x/S.java#body:"
                        + " the page's block ends at its line 2 where the region goes on with \"int b = 2;\". Run"
                        + " scripts/run-example.sh sync-guide to copy the region into the page (or fix the source,"
                        + " if the page was right).",
                "docs/page.md:16: there is no region 'missing' in " + GuideSnippets.SOURCE_ROOT + "/x/S.java (it"
                        + " has: body); mark it with '// snippet:missing' and '// end-snippet:missing' lines.",
                "docs/page.md:20: the snippet marker names " + GuideSnippets.SOURCE_ROOT + "/x/Gone.java, which"
                        + " does not exist; fix the path (relative to the repository root) or create the file.");

        GuideSnippets.SyncResult result = GuideSnippets.sync(root);
        assertThat(result.updated()).containsExactly(
                "docs/page.md:3 <- " + GuideSnippets.SOURCE_ROOT + "/x/S.java#body",
                "docs/page.md:11 <- " + GuideSnippets.SOURCE_ROOT + "/x/S.java#body");
        assertThat(result.problems()).hasSize(2);
        assertThat(Files.readString(docs.resolve("page.md"))).startsWith("Intro\n\n" + marker
                + "\n```java\nint a = 1;\nint b = 2;\n```\n\n- item\n\n  " + marker
                + "\n  ```java\n  int a = 1;\n  int b = 2;\n  ```\n\n");
        assertThat(GuideSnippets.check(root)).hasSize(2);
        assertThat(GuideSnippets.sync(root).updated()).isEmpty();
    }
}
