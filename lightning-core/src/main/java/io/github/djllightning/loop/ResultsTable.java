package io.github.djllightning.loop;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** Prints the table of metrics at the end of {@code validate} and {@code test}, as Lightning does. */
final class ResultsTable {

    private ResultsTable() {}

    static void print(List<Map<String, Double>> results, String stage) {
        String table = render(results, stage);
        if (!table.isEmpty()) {
            System.out.print(table);
            System.out.flush();
        }
    }

    static String render(List<Map<String, Double>> results, String stage) {
        Set<String> names = new LinkedHashSet<>();
        for (Map<String, Double> result : results) {
            names.addAll(result.keySet());
        }
        if (names.isEmpty()) {
            return "";
        }
        List<String> headers = new ArrayList<>();
        headers.add(stage + " metric");
        for (int i = 0; i < results.size(); i++) {
            headers.add("DataLoader " + i);
        }
        List<List<String>> rows = new ArrayList<>();
        for (String name : names.stream().sorted().toList()) {
            List<String> row = new ArrayList<>();
            row.add(name);
            for (Map<String, Double> result : results) {
                Double value = result.get(name);
                row.add(value == null ? "" : format(value));
            }
            rows.add(row);
        }
        int[] widths = new int[headers.size()];
        for (int c = 0; c < headers.size(); c++) {
            widths[c] = headers.get(c).length();
            for (List<String> row : rows) {
                widths[c] = Math.max(widths[c], row.get(c).length());
            }
            widths[c] += 4;
        }
        int total = 0;
        for (int w : widths) {
            total += w;
        }
        String rule = "─".repeat(total) + System.lineSeparator();
        StringBuilder out = new StringBuilder(rule);
        out.append(line(headers, widths)).append(rule);
        for (List<String> row : rows) {
            out.append(line(row, widths));
        }
        return out.append(rule).toString();
    }

    private static String line(List<String> cells, int[] widths) {
        StringBuilder out = new StringBuilder();
        for (int c = 0; c < cells.size(); c++) {
            out.append(center(cells.get(c), widths[c]));
        }
        return out.append(System.lineSeparator()).toString();
    }

    private static String center(String text, int width) {
        int left = (width - text.length()) / 2;
        return " ".repeat(left) + text + " ".repeat(width - text.length() - left);
    }

    private static String format(double value) {
        return String.format(Locale.ROOT, "%.10g", value).replaceAll("(\\.\\d*?)0+$", "$1").replaceAll("\\.$", "");
    }
}
