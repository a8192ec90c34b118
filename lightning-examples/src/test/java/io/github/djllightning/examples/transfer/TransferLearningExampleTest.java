package io.github.djllightning.examples.transfer;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A pretrained encoder as a frozen backbone, then fine-tuned: the classifier learns digits from its 3 features. */
class TransferLearningExampleTest {

    @TempDir
    Path root;

    @Test
    void theFrozenBackboneFeedsTheHeadAndFineTuningUnfreezesIt() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream previous = System.out;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            TransferLearningExample.main(new String[] {"--epochs", "2", "--root", root.toString()});
        } finally {
            System.setOut(previous);
        }
        String printed = out.toString(StandardCharsets.UTF_8);
        assertThat(printed).contains("Backbone changed by fine-tuning: true");
        Matcher accuracy = Pattern.compile("RESULT val_accuracy=([0-9.]+)").matcher(printed);
        assertThat(accuracy.find()).as(printed).isTrue();
        // 3 features from an autoencoder trained for one epoch: far above the 10% of chance
        assertThat(Double.parseDouble(accuracy.group(1))).isGreaterThan(0.8);
    }
}
