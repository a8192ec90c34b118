package io.github.djllightning.callbacks;

import static org.junit.jupiter.api.Assertions.fail;

import ai.djl.ndarray.NDManager;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import io.github.djllightning.callback.Callback;
import io.github.djllightning.callback.ModelCheckpoint;
import io.github.djllightning.data.DataLoader;
import io.github.djllightning.log.CsvLogger;
import io.github.djllightning.testing.BoringModule;
import io.github.djllightning.testing.Event;
import io.github.djllightning.testing.RecordingCallback;
import io.github.djllightning.trainer.Trainer;
import io.github.djllightning.trainer.TrainerConfig;
import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Replays every trace recorded from PyTorch Lightning (the {@code *.json} files of the folder named by the system
 * property {@code conformance.dir}, by default the copies in this module's test resources) and checks that our
 * Trainer fires the same events in the same order with the same counters, ends with the same counters and metric
 * names, writes the same checkpoint files and the same CSV rows. Each trace is a test of its own and prints one line
 * {@code CONFORMANCE <name> PASS} or {@code CONFORMANCE <name> FAIL <first difference>}.
 *
 * <p>Trainer flags and callbacks of a trace's {@code spec} are mapped by name, so a new trace needs no new code
 * unless it uses a flag or callback argument not mapped yet (which fails the trace, naming it).
 *
 * <p>One deliberate difference is applied to the expectations: with {@code save_last}, our {@code last.ckpt} follows
 * every save point (Lightning 2.6 updates it only when a top-k checkpoint is written), so each training epoch end
 * that Lightning left without a save gets one {@code on_save_checkpoint}.
 */
class ConformanceTest {

    @TestFactory
    Stream<DynamicTest> traces() throws IOException {
        Path dir = traceDir();
        List<Path> files;
        try (Stream<Path> list = Files.list(dir)) {
            files = list.filter(p -> p.toString().endsWith(".json")).sorted().collect(Collectors.toList());
        }
        if (files.isEmpty()) {
            fail("No conformance traces (*.json) in " + dir);
        }
        return files.stream().map(file -> DynamicTest.dynamicTest(name(file), () -> replay(file)));
    }

    private static String name(Path file) {
        String name = file.getFileName().toString();
        return name.substring(0, name.length() - ".json".length());
    }

    private static Path traceDir() {
        String property = System.getProperty("conformance.dir");
        if (property != null && !property.isEmpty()) {
            return Paths.get(property);
        }
        URL url = ConformanceTest.class.getClassLoader().getResource("conformance");
        Objects.requireNonNull(url, "test resources lack the conformance folder");
        try {
            return Paths.get(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private void replay(Path file) throws IOException {
        String name = name(file);
        JsonObject trace;
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            trace = JsonParser.parseReader(reader).getAsJsonObject();
        }
        JsonObject spec = trace.getAsJsonObject("spec");
        Path root = Files.createTempDirectory("conformance-" + name);
        String difference;
        try {
            difference = run(spec, trace, root);
        } catch (RuntimeException | AssertionError e) {
            difference = "the run failed: " + e;
            e.printStackTrace(System.out);
        } finally {
            deleteRecursively(root);
        }
        if (difference == null) {
            System.out.println("CONFORMANCE " + name + " PASS");
        } else {
            System.out.println("CONFORMANCE " + name + " FAIL " + difference);
            fail(difference);
        }
    }

    private String run(JsonObject spec, JsonObject trace, Path root) throws IOException {
        List<Event> events = new ArrayList<>();
        BoringModule module = new BoringModule(events);
        JsonObject moduleSpec = spec.has("module") ? spec.getAsJsonObject("module") : new JsonObject();
        if (moduleSpec.has("none_at")) {
            Set<Integer> noneAt = new HashSet<>();
            moduleSpec.getAsJsonArray("none_at").forEach(e -> noneAt.add(e.getAsInt()));
            module.noneAt(noneAt);
        }
        if (moduleSpec.has("stop_epoch_at")) {
            module.stopEpochAt(moduleSpec.get("stop_epoch_at").getAsInt());
        }
        if (moduleSpec.has("val_losses")) {
            List<Double> losses = new ArrayList<>();
            moduleSpec.getAsJsonArray("val_losses").forEach(e -> losses.add(e.getAsDouble()));
            module.valLosses(losses);
        }
        List<Callback> callbacks = new ArrayList<>();
        callbacks.add(new RecordingCallback(events));
        boolean saveLast = false;
        if (spec.has("callbacks")) {
            for (JsonElement entry : spec.getAsJsonArray("callbacks")) {
                JsonArray pair = entry.getAsJsonArray();
                String callbackName = pair.get(0).getAsString();
                JsonObject args = pair.get(1).getAsJsonObject();
                saveLast |= "ModelCheckpoint".equals(callbackName) && args.has("save_last")
                        && args.get("save_last").getAsBoolean();
                callbacks.add(callback(callbackName, args, root));
            }
        }
        boolean resume = spec.has("resume") && spec.get("resume").getAsBoolean();
        TrainerConfig.Builder<Trainer> builder = Trainer.builder()
                .defaultRootDir(root)
                .enableProgressBar(false)
                .enableModelSummary(false)
                .callbacks(callbacks);
        if (resume) {
            // both runs write to the same run folder; the CSV logger appends to the first run's rows
            builder.loggers(CsvLogger.builder(root).version(0).build());
        }
        JsonObject flags = spec.has("trainer") ? spec.getAsJsonObject("trainer") : new JsonObject();
        for (Map.Entry<String, JsonElement> flag : flags.entrySet()) {
            applyFlag(builder, flag.getKey(), flag.getValue());
        }
        Trainer trainer = builder.build();
        String run = spec.has("run") ? spec.get("run").getAsString() : "fit";
        int trainBatches = spec.get("train").getAsInt();
        int valBatches = spec.get("val").getAsInt();
        try (NDManager manager = NDManager.newBaseManager()) {
            DataLoader val = valBatches == 0 ? null : BoringModule.data(manager, valBatches);
            switch (run) {
                case "fit":
                    DataLoader train = BoringModule.data(manager, trainBatches);
                    String ckptPath = resume ? firstEpoch(root, train, val) : null;
                    if (val == null) {
                        trainer.fit(module, train, ckptPath);
                    } else {
                        trainer.fit(module, train, val, ckptPath);
                    }
                    break;
                case "validate":
                    trainer.validate(module, val);
                    break;
                case "test":
                    trainer.test(module, val);
                    break;
                case "predict":
                    trainer.predict(module, val);
                    break;
                default:
                    return "unknown spec.run '" + run + "'";
            }
        } finally {
            module.close();
        }
        String difference = compareEvents(expectedEvents(trace, saveLast), events);
        if (difference == null) {
            difference = compareFinal(trace.getAsJsonObject("final"), trainer);
        }
        if (difference == null) {
            difference = compareCheckpoints(trace.getAsJsonArray("checkpoints"), root);
        }
        if (difference == null) {
            difference = compareCsv(trace.get("metrics_csv_header_and_steps"), root);
        }
        return difference;
    }

    /**
     * The first half of a resume scenario: one epoch with {@code ModelCheckpoint(dirpath=<root>/ck)}, logging to the
     * same run folder.
     *
     * @return the checkpoint the recorded run resumes from
     */
    private static String firstEpoch(Path root, DataLoader train, DataLoader val) throws IOException {
        Trainer first = Trainer.builder()
                .defaultRootDir(root)
                .enableProgressBar(false)
                .enableModelSummary(false)
                .maxEpochs(1)
                .loggers(CsvLogger.builder(root).version(0).build())
                .callbacks(ModelCheckpoint.builder().dirpath(root.resolve("ck")).build())
                .build();
        try (BoringModule module = new BoringModule()) {
            if (val == null) {
                first.fit(module, train);
            } else {
                first.fit(module, train, val);
            }
        }
        try (Stream<Path> files = Files.list(root.resolve("ck"))) {
            return files.filter(f -> f.toString().endsWith(".ckpt")).findFirst()
                    .orElseThrow(() -> new IllegalStateException("the first epoch wrote no checkpoint"))
                    .toString();
        }
    }

    private static Callback callback(String name, JsonObject args, Path root) {
        switch (name) {
            case "ModelCheckpoint": {
                ModelCheckpoint.Builder b = ModelCheckpoint.builder();
                for (Map.Entry<String, JsonElement> arg : args.entrySet()) {
                    JsonElement v = arg.getValue();
                    switch (arg.getKey()) {
                        case "monitor": b.monitor(v.getAsString()); break;
                        case "mode": b.mode(v.getAsString()); break;
                        case "save_top_k": b.saveTopK(v.getAsInt()); break;
                        case "save_last": b.saveLast(v.getAsBoolean()); break;
                        case "every_n_epochs": b.everyNEpochs(v.getAsInt()); break;
                        case "every_n_train_steps": b.everyNTrainSteps(v.getAsInt()); break;
                        case "filename": b.filename(v.getAsString()); break;
                        case "dirpath": b.dirpath(root.resolve(v.getAsString())); break;
                        case "save_weights_only": b.saveWeightsOnly(v.getAsBoolean()); break;
                        case "save_on_train_epoch_end": b.saveOnTrainEpochEnd(v.getAsBoolean()); break;
                        case "auto_insert_metric_name": b.autoInsertMetricName(v.getAsBoolean()); break;
                        default: throw new IllegalArgumentException("unmapped ModelCheckpoint argument " + arg.getKey());
                    }
                }
                return b.build();
            }
            case "EarlyStopping": {
                EarlyStopping.Builder b = EarlyStopping.builder(args.get("monitor").getAsString());
                for (Map.Entry<String, JsonElement> arg : args.entrySet()) {
                    JsonElement v = arg.getValue();
                    switch (arg.getKey()) {
                        case "monitor": break;
                        case "patience": b.patience(v.getAsInt()); break;
                        case "mode": b.mode(v.getAsString()); break;
                        case "min_delta": b.minDelta(v.getAsDouble()); break;
                        case "strict": b.strict(v.getAsBoolean()); break;
                        case "check_finite": b.checkFinite(v.getAsBoolean()); break;
                        case "stopping_threshold": b.stoppingThreshold(v.getAsDouble()); break;
                        case "divergence_threshold": b.divergenceThreshold(v.getAsDouble()); break;
                        case "check_on_train_epoch_end": b.checkOnTrainEpochEnd(v.getAsBoolean()); break;
                        case "verbose": b.verbose(v.getAsBoolean()); break;
                        default: throw new IllegalArgumentException("unmapped EarlyStopping argument " + arg.getKey());
                    }
                }
                return b.build();
            }
            default:
                throw new IllegalArgumentException("unmapped callback " + name);
        }
    }

    private static void applyFlag(TrainerConfig.Builder<Trainer> b, String flag, JsonElement value) {
        switch (flag) {
            case "max_epochs": b.maxEpochs(value.getAsInt()); break;
            case "min_epochs": b.minEpochs(value.getAsInt()); break;
            case "max_steps": b.maxSteps(value.getAsLong()); break;
            case "min_steps": b.minSteps(value.getAsLong()); break;
            case "accumulate_grad_batches": b.accumulateGradBatches(value.getAsInt()); break;
            case "check_val_every_n_epoch": b.checkValEveryNEpoch(value.isJsonNull() ? null : value.getAsInt()); break;
            case "num_sanity_val_steps": b.numSanityValSteps(value.getAsInt()); break;
            case "log_every_n_steps": b.logEveryNSteps(value.getAsInt()); break;
            case "gradient_clip_val": b.gradientClipVal(value.getAsDouble()); break;
            case "gradient_clip_algorithm": b.gradientClipAlgorithm(value.getAsString()); break;
            case "enable_checkpointing": b.enableCheckpointing(value.getAsBoolean()); break;
            case "fast_dev_run":
                if (value.getAsJsonPrimitive().isBoolean()) {
                    b.fastDevRun(value.getAsBoolean());
                } else {
                    b.fastDevRun(value.getAsInt());
                }
                break;
            case "limit_train_batches":
                if (isInteger(value)) { b.limitTrainBatches(value.getAsInt()); } else { b.limitTrainBatches(value.getAsDouble()); }
                break;
            case "limit_val_batches":
                if (isInteger(value)) { b.limitValBatches(value.getAsInt()); } else { b.limitValBatches(value.getAsDouble()); }
                break;
            case "limit_test_batches":
                if (isInteger(value)) { b.limitTestBatches(value.getAsInt()); } else { b.limitTestBatches(value.getAsDouble()); }
                break;
            case "limit_predict_batches":
                if (isInteger(value)) { b.limitPredictBatches(value.getAsInt()); } else { b.limitPredictBatches(value.getAsDouble()); }
                break;
            case "overfit_batches":
                if (isInteger(value)) { b.overfitBatches(value.getAsInt()); } else { b.overfitBatches(value.getAsDouble()); }
                break;
            case "val_check_interval":
                if (isInteger(value)) { b.valCheckInterval(value.getAsInt()); } else { b.valCheckInterval(value.getAsDouble()); }
                break;
            default:
                throw new IllegalArgumentException("unmapped trainer flag " + flag);
        }
    }

    /** JSON keeps {@code 1} and {@code 1.0} apart; so does Lightning (a count and a fraction). */
    private static boolean isInteger(JsonElement value) {
        JsonPrimitive primitive = value.getAsJsonPrimitive();
        String text = primitive.getAsString();
        return primitive.isNumber() && !text.contains(".") && !text.contains("e") && !text.contains("E");
    }

    private static List<Event> expectedEvents(JsonObject trace, boolean saveLast) {
        List<Event> expected = new ArrayList<>();
        for (JsonElement element : trace.getAsJsonArray("events")) {
            JsonObject e = element.getAsJsonObject();
            expected.add(new Event(
                    e.get("event").getAsString(),
                    e.get("epoch").getAsInt(),
                    e.get("global_step").getAsLong(),
                    e.has("stage") && !e.get("stage").isJsonNull() ? e.get("stage").getAsString() : null,
                    e.has("batch_idx") ? e.get("batch_idx").getAsInt() : null,
                    e.has("arg") ? e.get("arg").getAsString() : null));
        }
        if (!saveLast) {
            return expected;
        }
        // our deliberate difference: last.ckpt follows every epoch-end save point
        List<Event> adjusted = new ArrayList<>();
        for (int i = 0; i < expected.size(); i++) {
            Event e = expected.get(i);
            adjusted.add(e);
            boolean followedBySave = i + 1 < expected.size()
                    && "on_save_checkpoint".equals(expected.get(i + 1).event());
            if ("on_train_epoch_end".equals(e.event()) && !followedBySave) {
                adjusted.add(new Event("on_save_checkpoint", e.epoch(), e.globalStep(), e.stage(), null, null));
            }
        }
        return adjusted;
    }

    private static String compareEvents(List<Event> expected, List<Event> actual) {
        int n = Math.min(expected.size(), actual.size());
        for (int i = 0; i < n; i++) {
            if (!expected.get(i).sameAs(actual.get(i))) {
                return "event " + i + ": expected " + expected.get(i) + " but got " + actual.get(i)
                        + " (previous: " + (i == 0 ? "none" : actual.get(i - 1)) + ")";
            }
        }
        if (expected.size() != actual.size()) {
            return "expected " + expected.size() + " events but got " + actual.size() + "; first extra/missing: "
                    + (expected.size() > n ? "missing " + expected.get(n) : "extra " + actual.get(n));
        }
        return null;
    }

    private static String compareFinal(JsonObject expected, Trainer trainer) {
        if (expected.get("current_epoch").getAsInt() != trainer.currentEpoch()) {
            return "final current_epoch: expected " + expected.get("current_epoch") + " but got "
                    + trainer.currentEpoch();
        }
        if (expected.get("global_step").getAsLong() != trainer.globalStep()) {
            return "final global_step: expected " + expected.get("global_step") + " but got " + trainer.globalStep();
        }
        if (expected.get("should_stop").getAsBoolean() != trainer.shouldStop()) {
            return "final should_stop: expected " + expected.get("should_stop") + " but got " + trainer.shouldStop();
        }
        String callback = compareNames("callback_metrics", expected.getAsJsonArray("callback_metrics"),
                trainer.callbackMetrics().keySet());
        return callback != null ? callback
                : compareNames("logged_metrics", expected.getAsJsonArray("logged_metrics"),
                        trainer.loggedMetrics().keySet());
    }

    private static String compareNames(String what, JsonArray expected, Set<String> actual) {
        Set<String> want = new TreeSet<>();
        expected.forEach(e -> want.add(e.getAsString()));
        Set<String> got = new TreeSet<>(actual);
        return want.equals(got) ? null : "final " + what + ": expected " + want + " but got " + got;
    }

    private static String compareCheckpoints(JsonArray expected, Path root) throws IOException {
        Set<String> want = new TreeSet<>();
        expected.forEach(e -> want.add(e.getAsString()));
        Set<String> got = new TreeSet<>();
        try (Stream<Path> walk = Files.walk(root)) {
            walk.filter(p -> p.toString().endsWith(".ckpt"))
                    .forEach(p -> got.add(root.relativize(p).toString().replace('\\', '/')));
        }
        return want.equals(got) ? null : "checkpoints: expected " + want + " but got " + got;
    }

    private static String compareCsv(JsonElement expected, Path root) throws IOException {
        Path csv = root.resolve("lightning_logs/version_0/metrics.csv");
        if (expected == null || expected.isJsonNull()) {
            try (Stream<Path> walk = Files.walk(root)) {
                List<Path> found = walk.filter(p -> p.getFileName().toString().equals("metrics.csv")).toList();
                return found.isEmpty() ? null : "metrics.csv: expected none but found " + found;
            }
        }
        if (!Files.exists(csv)) {
            return "metrics.csv: expected " + csv + " to exist";
        }
        JsonObject want = expected.getAsJsonObject();
        List<String> wantHeader = new ArrayList<>();
        want.getAsJsonArray("header").forEach(e -> wantHeader.add(e.getAsString()));
        try (CSVParser parser = CSVParser.parse(csv, StandardCharsets.UTF_8,
                CSVFormat.DEFAULT.builder().setHeader().setSkipHeaderRecord(true).build())) {
            List<String> header = parser.getHeaderNames();
            if (!header.equals(wantHeader)) {
                return "metrics.csv header: expected " + wantHeader + " but got " + header;
            }
            List<CSVRecord> records = parser.getRecords();
            JsonArray rows = want.getAsJsonArray("rows");
            for (int i = 0; i < Math.min(rows.size(), records.size()); i++) {
                JsonObject row = rows.get(i).getAsJsonObject();
                CSVRecord record = records.get(i);
                Set<String> keys = new TreeSet<>();
                row.getAsJsonArray("keys").forEach(e -> keys.add(e.getAsString()));
                Set<String> filled = new TreeSet<>();
                for (String column : header) {
                    if (!column.equals("epoch") && !column.equals("step") && !record.get(column).isEmpty()) {
                        filled.add(column);
                    }
                }
                String epoch = row.get("epoch").getAsString();
                String step = row.get("step").getAsString();
                if (!epoch.equals(record.get("epoch")) || !step.equals(record.get("step")) || !keys.equals(filled)) {
                    return "metrics.csv row " + i + ": expected epoch=" + epoch + " step=" + step + " " + keys
                            + " but got epoch=" + record.get("epoch") + " step=" + record.get("step") + " " + filled;
                }
            }
            if (rows.size() != records.size()) {
                return "metrics.csv: expected " + rows.size() + " rows but got " + records.size();
            }
        }
        return null;
    }

    private static void deleteRecursively(Path root) {
        try (Stream<Path> walk = Files.walk(root)) {
            walk.sorted((a, b) -> b.compareTo(a)).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
