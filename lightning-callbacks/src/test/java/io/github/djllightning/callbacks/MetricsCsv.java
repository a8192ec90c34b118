package io.github.djllightning.callbacks;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;

/** The header and rows of a {@code metrics.csv}, as a user reading the file sees them. */
record MetricsCsv(List<String> header, List<Map<String, String>> rows) {

    /**
     * Reads a file.
     *
     * @param file the metrics file
     * @return its header and rows (every cell as written; empty cells are empty strings)
     */
    static MetricsCsv read(Path file) {
        try (Reader reader = Files.newBufferedReader(file);
                CSVParser parser = CSVFormat.DEFAULT.builder().setHeader().get().parse(reader)) {
            List<Map<String, String>> rows = new ArrayList<>();
            for (CSVRecord record : parser) {
                rows.add(new LinkedHashMap<>(record.toMap()));
            }
            return new MetricsCsv(List.copyOf(parser.getHeaderNames()), rows);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The rows in which a column has a value. */
    List<Map<String, String>> rowsWith(String column) {
        List<Map<String, String>> out = new ArrayList<>();
        for (Map<String, String> row : rows) {
            String cell = row.get(column);
            if (cell != null && !cell.isEmpty()) {
                out.add(row);
            }
        }
        return out;
    }

    /** The steps of the rows in which a column has a value, in file order. */
    List<Long> stepsOf(String column) {
        List<Long> out = new ArrayList<>();
        for (Map<String, String> row : rowsWith(column)) {
            out.add(Long.parseLong(row.get("step")));
        }
        return out;
    }

    /** The values of a column where it has one, in file order. */
    List<Double> valuesOf(String column) {
        List<Double> out = new ArrayList<>();
        for (Map<String, String> row : rowsWith(column)) {
            out.add(Double.parseDouble(row.get(column)));
        }
        return out;
    }
}
