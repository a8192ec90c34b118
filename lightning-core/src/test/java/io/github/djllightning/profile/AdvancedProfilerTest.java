package io.github.djllightning.profile;

import static io.github.djllightning.testing.TestTrainers.quiet;
import static org.assertj.core.api.Assertions.assertThat;

import io.github.djllightning.testing.BoringModule;
import io.github.djllightning.testing.EngineTest;
import io.github.djllightning.trainer.Trainer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The advanced profiler on a real fit: a readable Flight Recorder file and a per-action report of hot methods. */
class AdvancedProfilerTest extends EngineTest {

    @TempDir
    Path root;

    @Test
    void writesARecordingAndAttributesSamplesToActions() throws IOException {
        AdvancedProfiler profiler = new AdvancedProfiler(null, "adv", 5, Duration.ofMillis(1));
        Trainer trainer = quiet(root).maxEpochs(1).profiler(profiler).build();
        trainer.fit(new BoringModule(), BoringModule.data(manager, 300));

        Path jfr = root.resolve("fit-adv.jfr");
        assertThat(jfr).exists();
        assertThat(profiler.recordingFile()).isEqualTo(jfr);
        List<RecordedEvent> events = RecordingFile.readAllEvents(jfr);
        long batches = events.stream()
                .filter(e -> e.getEventType().getName().equals(ActionEvent.NAME))
                .filter(e -> e.getString("action").equals("run_training_batch"))
                .count();
        assertThat(batches).isEqualTo(300);
        assertThat(events).anyMatch(e -> e.getEventType().getName().startsWith("jdk.")
                && e.getEventType().getName().endsWith("Sample"));

        String report = Files.readString(root.resolve("fit-adv.txt"));
        assertThat(report).startsWith("FIT Advanced Profiler Report").contains(jfr.toString());
        Matcher sections = Pattern.compile("Profile stats for: (.+) \\((\\d+) samples?").matcher(report);
        boolean namedAction = false;
        while (sections.find()) {
            namedAction |= !sections.group(1).equals(AdvancedProfiler.OUTSIDE);
        }
        assertThat(namedAction).as("a section for a Trainer action in:%n%s", report).isTrue();
        assertThat(report).containsPattern("\\d+\\.\\d%  [\\w$.]+\\.\\w+");
    }
}
