package com.example.starter;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Trains for a few steps on MNIST and checks that the model learned and that the run left its files. */
class MainTest {

    @Test
    void trainsAndWritesCheckpointAndMetrics() throws IOException {
        Path root = Path.of("target", "main-test-run");
        deleteRecursively(root);

        Main.Result result = Main.run("--steps", "60", "--val-batches", "4", "--root", root.toString());

        Path checkpoints = result.runDir().resolve("checkpoints");
        try (Stream<Path> files = Files.list(checkpoints)) {
            assertTrue(files.anyMatch(p -> p.toString().endsWith(".ckpt")), "no checkpoint in " + checkpoints);
        }
        List<Double> losses = trainLosses(result.runDir().resolve("metrics.csv"));
        assertTrue(losses.size() >= 2, "too few train_loss rows: " + losses);
        assertTrue(losses.get(losses.size() - 1) < losses.get(0), "train_loss did not fall: " + losses);
        assertTrue(result.startupMillis() > 0, "the first step was never reached");
    }

    /** The logged train_loss values, in step order. */
    private static List<Double> trainLosses(Path csv) throws IOException {
        List<String> lines = Files.readAllLines(csv);
        List<String> header = List.of(lines.get(0).split(",", -1));
        int column = header.indexOf("train_loss");
        assertTrue(column >= 0, "no train_loss column in " + header);
        List<Double> losses = new ArrayList<>();
        for (String line : lines.subList(1, lines.size())) {
            String[] cells = line.split(",", -1);
            if (column < cells.length && !cells[column].isEmpty()) {
                losses.add(Double.parseDouble(cells[column]));
            }
        }
        return losses;
    }

    private static void deleteRecursively(Path dir) throws IOException {
        if (Files.exists(dir)) {
            try (Stream<Path> paths = Files.walk(dir)) {
                for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
    }
}
