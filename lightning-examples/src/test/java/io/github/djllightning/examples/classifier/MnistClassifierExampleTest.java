package io.github.djllightning.examples.classifier;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The classifier example on the whole of MNIST: validation, early stopping, the best checkpoint, MC dropout. */
class MnistClassifierExampleTest {

    @TempDir
    Path root;

    @Test
    void reachesNinetySevenPercentOnTheTestSetAndPredictsWithMcDropout() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream previous = System.out;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            MnistClassifierExample.main(new String[] {"--epochs", "3", "--root", root.toString()});
        } finally {
            System.setOut(previous);
        }
        String printed = out.toString(StandardCharsets.UTF_8);
        Matcher result = Pattern.compile("RESULT test_accuracy=([0-9.]+)").matcher(printed);
        assertThat(result.find()).as(printed).isTrue();
        assertThat(Double.parseDouble(result.group(1))).isGreaterThanOrEqualTo(0.97);
        // the best checkpoint (by val_accuracy) is what was tested, and it is on disk
        Matcher best = Pattern.compile("Best checkpoint: (\\S+\\.ckpt)").matcher(printed);
        assertThat(best.find()).isTrue();
        assertThat(Path.of(best.group(1))).exists();
        try (Stream<Path> files = Files.list(Path.of(best.group(1)).getParent())) {
            assertThat(files.filter(f -> f.toString().endsWith(".ckpt")).count()).as("top-1 keeps one").isEqualTo(1);
        }
        // MC dropout: the first 8 test digits are 7 2 1 0 4 1 4 9; a trained model gets most of them
        Matcher digit = Pattern.compile("digit (\\d): predicted (\\d) with mean probability ([0-9.]+)").matcher(printed);
        int[] labels = {7, 2, 1, 0, 4, 1, 4, 9};
        int right = 0;
        int rows = 0;
        while (digit.find()) {
            double probability = Double.parseDouble(digit.group(3));
            assertThat(probability).isBetween(0.0, 1.0);
            right += Integer.parseInt(digit.group(2)) == labels[Integer.parseInt(digit.group(1))] ? 1 : 0;
            rows++;
        }
        assertThat(rows).isEqualTo(8);
        assertThat(right).isGreaterThanOrEqualTo(7);
        // the prediction writer saved all 10,000 test predictions and their image indices
        Matcher written = Pattern.compile("Predictions written to (\\S+) and (\\S+)").matcher(printed);
        assertThat(written.find()).as(printed).isTrue();
        assertThat(Path.of(written.group(1))).exists();
        String indices = Files.readString(Path.of(written.group(2)));
        assertThat(indices).contains("9999");
    }
}
