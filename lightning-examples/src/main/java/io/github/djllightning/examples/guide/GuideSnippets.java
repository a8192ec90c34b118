package io.github.djllightning.examples.guide;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Keeps the Java code of the user guide compiled: every {@code ```java} block of {@code docs/*.md} and {@code
 * README.md} is a copy of a marked region of a source file under {@code lightning-examples/src/main/java}.
 *
 * <p><b>In a Java source</b>, a region is marked by two whole lines, at any indentation: {@code // snippet:NAME} and
 * {@code // end-snippet:NAME} (NAME: letters, digits, {@code -} and {@code _}; unique within the file). Regions may
 * nest or overlap. A region's content is the lines strictly between its two markers, without the marker lines of other
 * regions, with their common leading indentation removed and without trailing blank lines.
 *
 * <p><b>In the Markdown</b>, the fenced block is directly preceded by one line naming the file (relative to the
 * repository root) and the region, {@code <!-- snippet: lightning-examples/src/main/java/.../File.java#NAME -->}; then
 * come the line {@code ```java}, exactly the region's content, and {@code ```}. A block inside a list item may be
 * indented: the marker line and the fences then share an indentation that every line of the block carries too.
 *
 * <p>{@link #check} lists what is wrong (the guide test fails on it); {@link #sync} rewrites every marked block from
 * its region ({@code scripts/run-example.sh sync-guide}).
 */
public final class GuideSnippets {

    /** Where the sources of the snippets live, relative to the repository root. */
    public static final String SOURCE_ROOT = "lightning-examples/src/main/java";

    /** The command that refreshes the blocks from their sources. */
    public static final String SYNC_COMMAND = "scripts/run-example.sh sync-guide";

    private static final String NAME = "([A-Za-z0-9_-]+)";
    private static final Pattern OPEN = Pattern.compile("^\\s*// snippet:" + NAME + "\\s*$");
    private static final Pattern CLOSE = Pattern.compile("^\\s*// end-snippet:" + NAME + "\\s*$");
    private static final Pattern LOOSE_MARKER = Pattern.compile("^\\s*//.*\\bsnippet\\s*:");
    private static final Pattern PAGE_MARKER =
            Pattern.compile("^(\\s*)<!--\\s*snippet:\\s*(\\S+?)#" + NAME + "\\s*-->\\s*$");
    private static final Pattern LOOSE_PAGE_MARKER = Pattern.compile("^\\s*<!--\\s*snippet");
    private static final Pattern FENCE = Pattern.compile("^(\\s*)```\\s*(\\S*).*$");

    private GuideSnippets() {}

    /**
     * Something wrong in a page or a source, with where it is and how to fix it.
     *
     * @param file the file, relative to the repository root (or as given)
     * @param line the line, from 1
     * @param message what is wrong and what to do
     */
    public record Problem(String file, int line, String message) {
        @Override
        public String toString() {
            return file + ":" + line + ": " + message;
        }
    }

    /**
     * A marked region of a source file.
     *
     * @param name the region's name
     * @param openLine the line of {@code // snippet:NAME}, from 1
     * @param content the region's content: dedented, without marker lines or trailing blank lines
     */
    public record Region(String name, int openLine, List<String> content) {}

    /**
     * The regions of a source file and the problems of its markers.
     *
     * @param regions the closed regions by name, in the order they open
     * @param problems markers opened and never closed, closed and never opened, repeated or misspelt
     */
    public record Regions(Map<String, Region> regions, List<Problem> problems) {}

    /**
     * A {@code ```java} block of a page that names its source.
     *
     * @param page the page, relative to the repository root
     * @param markerLine the line of the snippet marker, from 1
     * @param source the source file's path as written, relative to the repository root
     * @param region the region's name
     * @param indent the indentation of the marker and the fences, carried by every line of the block
     * @param lines the block's content, without the indentation
     * @param firstLine the index (from 0) of the block's first content line in the page
     */
    public record Block(
            String page, int markerLine, String source, String region, String indent, List<String> lines,
            int firstLine) {

        /** Where the block refers to, as written in the marker. */
        public String reference() {
            return source + "#" + region;
        }
    }

    /**
     * Reads the regions of a source file.
     *
     * @param file the file's name for the problems
     * @param lines the file's lines
     * @return the regions and the problems of the markers
     */
    public static Regions regions(String file, List<String> lines) {
        Map<String, Integer> open = new LinkedHashMap<>();
        Map<String, int[]> closed = new LinkedHashMap<>();
        List<Problem> problems = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            Matcher opening = OPEN.matcher(line);
            Matcher closing = CLOSE.matcher(line);
            if (opening.matches()) {
                String name = opening.group(1);
                if (open.containsKey(name) || closed.containsKey(name)) {
                    int first = open.containsKey(name) ? open.get(name) : closed.get(name)[0];
                    problems.add(new Problem(file, i + 1, "region '" + name + "' is opened again (first at line "
                            + (first + 1) + "); give each region of a file its own name."));
                } else {
                    open.put(name, i);
                }
            } else if (closing.matches()) {
                String name = closing.group(1);
                Integer start = open.remove(name);
                if (start == null) {
                    problems.add(new Problem(file, i + 1, "'// end-snippet:" + name + "' closes no open region; add"
                            + " '// snippet:" + name + "' where the region starts, or remove this line."));
                } else {
                    closed.put(name, new int[] {start, i});
                }
            } else if (LOOSE_MARKER.matcher(line).find()) {
                problems.add(new Problem(file, i + 1, "this comment looks like a snippet marker but is not one: a"
                        + " marker is a whole line '// snippet:NAME' or '// end-snippet:NAME' (NAME: letters, digits,"
                        + " '-', '_')."));
            }
        }
        for (Map.Entry<String, Integer> unclosed : open.entrySet()) {
            problems.add(new Problem(file, unclosed.getValue() + 1, "region '" + unclosed.getKey() + "' is opened and"
                    + " never closed; add '// end-snippet:" + unclosed.getKey() + "' where it ends."));
        }
        List<Map.Entry<String, int[]>> ordered = new ArrayList<>(closed.entrySet());
        ordered.sort((a, b) -> Integer.compare(a.getValue()[0], b.getValue()[0]));
        Map<String, Region> regions = new LinkedHashMap<>();
        for (Map.Entry<String, int[]> entry : ordered) {
            int[] bounds = entry.getValue();
            regions.put(entry.getKey(), new Region(entry.getKey(), bounds[0] + 1,
                    content(lines.subList(bounds[0] + 1, bounds[1]))));
        }
        return new Regions(regions, problems);
    }

    /** The lines without marker lines, dedented, without trailing blank lines. */
    private static List<String> content(List<String> inner) {
        List<String> kept = new ArrayList<>();
        for (String line : inner) {
            if (!OPEN.matcher(line).matches() && !CLOSE.matcher(line).matches()) {
                kept.add(line);
            }
        }
        int indent = Integer.MAX_VALUE;
        for (String line : kept) {
            if (!line.isBlank()) {
                indent = Math.min(indent, leadingSpaces(line));
            }
        }
        List<String> out = new ArrayList<>();
        for (String line : kept) {
            out.add(line.isBlank() ? "" : line.substring(indent));
        }
        while (!out.isEmpty() && out.get(out.size() - 1).isEmpty()) {
            out.remove(out.size() - 1);
        }
        return out;
    }

    private static int leadingSpaces(String line) {
        int n = 0;
        while (n < line.length() && Character.isWhitespace(line.charAt(n))) {
            n++;
        }
        return n;
    }

    /**
     * Finds the marked {@code ```java} blocks of a page, and the problems of its unmarked ones and stray markers.
     *
     * @param page the page's name for the problems
     * @param lines the page's lines
     * @param problems receives a problem for each {@code ```java} block without a marker and each marker that is not
     *     followed by one
     * @return the marked blocks, in page order
     */
    public static List<Block> blocks(String page, List<String> lines, List<Problem> problems) {
        List<Block> blocks = new ArrayList<>();
        int i = 0;
        while (i < lines.size()) {
            String line = lines.get(i);
            Matcher fence = FENCE.matcher(line);
            Matcher marker = PAGE_MARKER.matcher(line);
            if (fence.matches()) {
                int close = closingFence(lines, i + 1);
                if ("java".equals(fence.group(2))) {
                    problems.add(new Problem(page, i + 1, "this ```java block has no snippet marker; put a line"
                            + " '<!-- snippet: " + SOURCE_ROOT + "/.../File.java#NAME -->' right before it, naming a"
                            + " region of compiled code (see " + GuideSnippets.class.getSimpleName() + ")."));
                }
                i = close + 1;
            } else if (marker.matches()) {
                String indent = marker.group(1);
                Matcher next = i + 1 < lines.size() ? FENCE.matcher(lines.get(i + 1)) : null;
                if (next == null || !next.matches() || !"java".equals(next.group(2))) {
                    problems.add(new Problem(page, i + 1, "the snippet marker is not directly followed by a ```java"
                            + " line; remove it or put the block right after it."));
                    i++;
                    continue;
                }
                if (!next.group(1).equals(indent)) {
                    problems.add(new Problem(page, i + 1, "the snippet marker and its ```java line must have the same"
                            + " indentation."));
                }
                int close = closingFence(lines, i + 2);
                List<String> content = new ArrayList<>();
                for (int k = i + 2; k < close; k++) {
                    String text = lines.get(k);
                    content.add(text.isBlank() ? "" : text.startsWith(next.group(1))
                            ? text.substring(next.group(1).length()) : text.strip());
                }
                blocks.add(new Block(page, i + 1, marker.group(2), marker.group(3), next.group(1), content, i + 2));
                if (close == lines.size()) {
                    problems.add(new Problem(page, i + 2, "the ```java block is never closed; end it with ```."));
                }
                i = close + 1;
            } else {
                if (LOOSE_PAGE_MARKER.matcher(line).lookingAt()) {
                    problems.add(new Problem(page, i + 1, "this comment looks like a snippet marker but is not one:"
                            + " write '<!-- snippet: " + SOURCE_ROOT + "/.../File.java#NAME -->' on a line of its"
                            + " own."));
                }
                i++;
            }
        }
        return blocks;
    }

    /** The index of the fence that closes a block whose content starts at {@code from}, or the line count. */
    private static int closingFence(List<String> lines, int from) {
        for (int k = from; k < lines.size(); k++) {
            if (lines.get(k).strip().equals("```")) {
                return k;
            }
        }
        return lines.size();
    }

    /**
     * The pages of the guide: {@code docs/*.md} and {@code README.md}.
     *
     * @param root the repository root
     * @return their paths, sorted
     */
    public static List<Path> pages(Path root) {
        List<Path> pages = new ArrayList<>();
        try (Stream<Path> docs = Files.list(root.resolve("docs"))) {
            docs.filter(p -> p.getFileName().toString().endsWith(".md") && Files.isRegularFile(p)).sorted()
                    .forEach(pages::add);
        } catch (IOException e) {
            throw new UncheckedIOException("Could not list " + root.resolve("docs") + ": " + e.getMessage(), e);
        }
        if (Files.isRegularFile(root.resolve("README.md"))) {
            pages.add(root.resolve("README.md"));
        }
        return pages;
    }

    /**
     * Finds the repository root from a folder inside it: the nearest folder, going up, that holds {@code docs/} and
     * {@code pom.xml}.
     *
     * @param start where to start
     * @return the root
     * @throws IllegalStateException when no such folder is found
     */
    public static Path findRoot(Path start) {
        for (Path dir = start.toAbsolutePath().normalize(); dir != null; dir = dir.getParent()) {
            if (Files.isDirectory(dir.resolve("docs")) && Files.isRegularFile(dir.resolve("pom.xml"))) {
                return dir;
            }
        }
        throw new IllegalStateException("No folder with docs/ and pom.xml above " + start.toAbsolutePath()
                + "; run from inside the repository or pass its root.");
    }

    /**
     * Checks the guide: every {@code ```java} block is marked, names an existing region and equals its content; every
     * source under {@link #SOURCE_ROOT} has well-formed markers.
     *
     * @param root the repository root
     * @return the problems, empty when all is well
     */
    public static List<Problem> check(Path root) {
        List<Problem> problems = new ArrayList<>();
        Sources sources = new Sources(root);
        for (Path page : pages(sources.root)) {
            String name = relative(sources.root, page);
            for (Block block : blocks(name, readLines(page), problems)) {
                Region region = sources.region(block, problems);
                if (region != null && !region.content().equals(block.lines())) {
                    problems.add(new Problem(name, block.markerLine(), "the ```java block differs from "
                            + block.reference() + ": " + firstDifference(block.lines(), region.content()) + ". Run "
                            + SYNC_COMMAND + " to copy the region into the page (or fix the source, if the page"
                            + " was right)."));
                }
            }
        }
        problems.addAll(sources.markerProblems());
        return problems;
    }

    private static String firstDifference(List<String> page, List<String> source) {
        int n = 0;
        while (n < page.size() && n < source.size() && page.get(n).equals(source.get(n))) {
            n++;
        }
        if (n == page.size()) {
            return "the page's block ends at its line " + (n + 1) + " where the region goes on with \""
                    + source.get(n) + "\"";
        }
        if (n == source.size()) {
            return "the region ends where the page's block goes on at its line " + (n + 1) + " with \"" + page.get(n)
                    + "\"";
        }
        return "first at line " + (n + 1) + " of the block: the page has \"" + page.get(n) + "\", the source has \""
                + source.get(n) + "\"";
    }

    /**
     * What {@link #sync} did.
     *
     * @param updated the blocks rewritten, as {@code page:line <- source#region}
     * @param problems what could not be fixed by copying (unmarked blocks, missing files or regions, bad markers)
     */
    public record SyncResult(List<String> updated, List<Problem> problems) {}

    /**
     * Rewrites every marked block of the pages with its region's content; pages whose blocks are all up to date are
     * not written.
     *
     * @param root the repository root
     * @return the blocks rewritten and the problems left
     */
    public static SyncResult sync(Path root) {
        List<Problem> problems = new ArrayList<>();
        List<String> updated = new ArrayList<>();
        Sources sources = new Sources(root);
        for (Path page : pages(sources.root)) {
            String name = relative(sources.root, page);
            List<String> lines = readLines(page);
            List<Block> blocks = blocks(name, lines, problems);
            List<String> out = new ArrayList<>(lines);
            // from the last block up, so that earlier blocks keep their line numbers
            for (int b = blocks.size() - 1; b >= 0; b--) {
                Block block = blocks.get(b);
                Region region = sources.region(block, problems);
                if (region == null || region.content().equals(block.lines())) {
                    continue;
                }
                List<String> replacement = new ArrayList<>();
                for (String line : region.content()) {
                    replacement.add(line.isEmpty() ? "" : block.indent() + line);
                }
                List<String> target = out.subList(block.firstLine(), block.firstLine() + block.lines().size());
                target.clear();
                target.addAll(replacement);
                updated.add(0, name + ":" + block.markerLine() + " <- " + block.reference());
            }
            if (!out.equals(lines)) {
                writeLines(page, out);
            }
        }
        problems.addAll(sources.markerProblems());
        return new SyncResult(updated, problems);
    }

    /** The source files of a check, read once each. */
    private static final class Sources {
        private final Path root;
        private final Map<String, Regions> byPath = new HashMap<>();

        Sources(Path root) {
            this.root = root.toAbsolutePath().normalize();
        }

        /** The region a block names, or null after adding a problem saying why there is none. */
        Region region(Block block, List<Problem> problems) {
            String source = block.source();
            Path file = root.resolve(source).normalize();
            if (!source.startsWith(SOURCE_ROOT + "/") || !source.endsWith(".java")
                    || !file.startsWith(root.resolve(SOURCE_ROOT))) {
                problems.add(new Problem(block.page(), block.markerLine(), "the snippet marker names '" + source
                        + "'; it must name a .java file under " + SOURCE_ROOT + ", relative to the repository root."));
                return null;
            }
            if (!Files.isRegularFile(file)) {
                problems.add(new Problem(block.page(), block.markerLine(), "the snippet marker names " + source
                        + ", which does not exist; fix the path (relative to the repository root) or create the"
                        + " file."));
                return null;
            }
            Regions regions = byPath.computeIfAbsent(source, s -> regions(s, readLines(file)));
            Region region = regions.regions().get(block.region());
            if (region == null) {
                problems.add(new Problem(block.page(), block.markerLine(), "there is no region '" + block.region()
                        + "' in " + source + (regions.regions().isEmpty() ? " (it has none)"
                                : " (it has: " + String.join(", ", regions.regions().keySet()) + ")")
                        + "; mark it with '// snippet:" + block.region() + "' and '// end-snippet:" + block.region()
                        + "' lines."));
                return null;
            }
            if (region.content().isEmpty()) {
                problems.add(new Problem(block.page(), block.markerLine(), "region '" + block.region() + "' of "
                        + source + " is empty; put the sample's lines between its markers."));
                return null;
            }
            return region;
        }

        /** The marker problems of every source under the source root. */
        List<Problem> markerProblems() {
            List<Problem> problems = new ArrayList<>();
            try (Stream<Path> files = Files.walk(root.resolve(SOURCE_ROOT))) {
                List<Path> sources = files.filter(p -> p.toString().endsWith(".java")).sorted().toList();
                for (Path file : sources) {
                    String name = relative(root, file);
                    problems.addAll(byPath.computeIfAbsent(name, s -> regions(s, readLines(file))).problems());
                }
            } catch (IOException e) {
                throw new UncheckedIOException("Could not list the sources under " + root.resolve(SOURCE_ROOT) + ": "
                        + e.getMessage(), e);
            }
            return problems;
        }
    }

    private static String relative(Path root, Path file) {
        return root.relativize(file).toString().replace('\\', '/');
    }

    private static List<String> readLines(Path file) {
        try {
            return Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("Could not read " + file + ": " + e.getMessage(), e);
        }
    }

    private static void writeLines(Path file, List<String> lines) {
        try {
            Files.writeString(file, String.join("\n", lines) + "\n", StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("Could not write " + file + ": " + e.getMessage(), e);
        }
    }
}
