package io.github.djllightning.profile;

import static io.github.djllightning.testing.TestTrainers.quiet;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.testing.BoringModule;
import io.github.djllightning.testing.EngineTest;
import io.github.djllightning.trainer.Trainer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The operator-level profiler on a real fit: a Chrome trace with PyTorch operators and the Trainer's actions. */
class PyTorchProfilerTest extends EngineTest {

    @TempDir
    Path root;

    private static List<JsonObject> events(Path trace, String pid) throws IOException {
        JsonArray all = JsonParser.parseString(Files.readString(trace)).getAsJsonArray();
        List<JsonObject> out = new ArrayList<>();
        for (JsonElement element : all) {
            JsonObject event = element.getAsJsonObject();
            if (event.get("pid").getAsString().equals(pid)) {
                out.add(event);
            }
        }
        return out;
    }

    @Test
    void writesAChromeTraceWithOperatorsAndActions() throws IOException {
        PyTorchProfiler profiler = new PyTorchProfiler(null, "ops", true, false, 10);
        Trainer trainer = quiet(root).maxEpochs(1).profiler(profiler).build();
        trainer.fit(new BoringModule(), BoringModule.data(manager, 3));

        Path trace = root.resolve("fit-ops.json");
        assertThat(profiler.traceFile()).isEqualTo(trace);
        List<JsonObject> operators = events(trace, "CPU Functions");
        assertThat(operators).anySatisfy(e -> assertThat(e.get("name").getAsString())
                .matches("aten::(addmm|linear|matmul)"));
        assertThat(operators).allSatisfy(e -> assertThat(e.get("ph").getAsString()).isEqualTo("X"));
        List<JsonObject> batches = events(trace, "Trainer actions").stream()
                .filter(e -> e.get("name").getAsString().equals("run_training_batch")).toList();
        assertThat(batches).hasSize(3);

        String report = Files.readString(root.resolve("fit-ops.txt"));
        assertThat(report).startsWith("FIT PyTorch Profiler Report").contains("aten::");
    }

    @Test
    void aFailedStageDoesNotBlockTheNextOne() throws IOException {
        PyTorchProfiler profiler = new PyTorchProfiler(root, "ops", false, false, 5);
        Trainer trainer = quiet(root).maxEpochs(1).profiler(profiler).build();
        LightningModule failing = new BoringModule() {
            @Override
            public Object trainingStep(ai.djl.training.dataset.Batch batch, int batchIdx) {
                throw new IllegalStateException("boom");
            }
        };
        try {
            trainer.fit(failing, BoringModule.data(manager, 2));
        } catch (RuntimeException expected) {
            assertThat(expected).hasRootCauseMessage("boom");
        }
        trainer.fit(new BoringModule(), BoringModule.data(manager, 2));
        assertThat(events(root.resolve("fit-ops.json"), "Trainer actions")).isNotEmpty();
    }
}
