package io.github.djllightning.callback;

import ai.djl.training.dataset.Batch;
import io.github.djllightning.log.Logger;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.trainer.MisconfigurationException;
import io.github.djllightning.trainer.Trainer;
import io.github.djllightning.trainer.TrainerFn;
import io.github.djllightning.util.PythonFormat;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.LoggerFactory;

/**
 * Saves checkpoints during fit: every epoch (or every n epochs or steps), keeping the best {@code saveTopK} by a
 * monitored metric, and optionally {@code last.ckpt}. Lightning's {@code ModelCheckpoint}, on by default.
 *
 * <p>Files go to {@code dirpath}, by default the first logger's {@code version_N/checkpoints} (or {@code
 * defaultRootDir/checkpoints} without a logger), named from the {@code filename} template: {@code {epoch}-{step}} by
 * default, e.g. {@code epoch=0-step=100.ckpt}; {@code {val_loss:.2f}} formats a metric. A name that exists already
 * gets {@code -v1}, {@code -v2}, ...
 *
 * <p><b>Better than Lightning:</b> {@code last.ckpt} (with {@code saveLast}) always holds the newest saved state,
 * also when that state is not among the top k.
 */
public class ModelCheckpoint implements Callback {

    /** The name of the last checkpoint. */
    public static final String NAME_LAST = "last";
    /** The checkpoint file extension. */
    public static final String FILE_EXTENSION = ".ckpt";

    private static final org.slf4j.Logger LOG = LoggerFactory.getLogger(ModelCheckpoint.class);
    private static final Pattern GROUP = Pattern.compile("\\{([^{}:]+)(?::([^{}]*))?\\}");

    private final Path userDirpath;
    private final String filename;
    private final String monitor;
    private final boolean verbose;
    private final boolean saveLast;
    private final int saveTopK;
    private final boolean saveWeightsOnly;
    private final boolean maximize;
    private final boolean autoInsertMetricName;
    private final int everyNTrainSteps;
    private final int everyNEpochs;
    private final Boolean saveOnTrainEpochEnd;
    private final boolean enableVersionCounter;
    private final Duration trainTimeInterval;
    private final boolean saveOnException;

    private Path dirpath;
    private String bestModelPath = "";
    private Double bestModelScore;
    private Double currentScore;
    private final Map<String, Double> bestKModels = new LinkedHashMap<>();
    private String kthBestModelPath = "";
    private Double kthValue;
    private String lastModelPath = "";
    private long lastGlobalStepSaved;
    private boolean deferUntilValidation;
    private long lastTimeChecked = -1;

    /** A checkpoint callback with Lightning's defaults: one checkpoint per epoch, only the newest kept. */
    public ModelCheckpoint() {
        this(builder());
    }

    /**
     * Creates a checkpoint callback from a builder.
     *
     * @param b the builder
     */
    protected ModelCheckpoint(Builder b) {
        if (b.saveTopK < -1) {
            throw new MisconfigurationException("ModelCheckpoint saveTopK must be -1 (all), 0 (none) or more, got "
                    + b.saveTopK);
        }
        if (b.everyNTrainSteps < 0 || b.everyNEpochs != null && b.everyNEpochs < 0) {
            throw new MisconfigurationException("ModelCheckpoint everyNTrainSteps and everyNEpochs must be >= 0, got "
                    + b.everyNTrainSteps + " and " + b.everyNEpochs);
        }
        int triggers = (b.everyNTrainSteps >= 1 ? 1 : 0) + (b.everyNEpochs != null && b.everyNEpochs >= 1 ? 1 : 0)
                + (b.trainTimeInterval != null ? 1 : 0);
        if (triggers > 1) {
            throw new MisconfigurationException("ModelCheckpoint everyNTrainSteps (" + b.everyNTrainSteps
                    + "), everyNEpochs (" + b.everyNEpochs + ") and trainTimeInterval (" + b.trainTimeInterval
                    + ") are mutually exclusive; set one of them.");
        }
        if (b.monitor == null && b.saveTopK != -1 && b.saveTopK != 0 && b.saveTopK != 1) {
            throw new MisconfigurationException("ModelCheckpoint(saveTopK=" + b.saveTopK + ") needs a metric to rank"
                    + " by: set monitor(\"val_loss\"), or use saveTopK -1, 0 or 1.");
        }
        this.userDirpath = b.dirpath;
        this.dirpath = b.dirpath;
        this.filename = b.filename;
        this.monitor = b.monitor;
        this.verbose = b.verbose;
        this.saveLast = b.saveLast;
        this.saveTopK = b.saveTopK;
        this.saveWeightsOnly = b.saveWeightsOnly;
        this.maximize = b.maximize;
        this.autoInsertMetricName = b.autoInsertMetricName;
        this.everyNTrainSteps = b.everyNTrainSteps;
        this.everyNEpochs = b.everyNEpochs == null
                ? (b.everyNTrainSteps >= 1 || b.trainTimeInterval != null ? 0 : 1)
                : b.everyNEpochs;
        this.trainTimeInterval = b.trainTimeInterval;
        this.saveOnException = b.saveOnException;
        this.saveOnTrainEpochEnd = b.saveOnTrainEpochEnd;
        this.enableVersionCounter = b.enableVersionCounter;
    }

    /** Starts a builder with Lightning's defaults. */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    public String stateKey() {
        return "ModelCheckpoint{'monitor': " + (monitor == null ? "None" : "'" + monitor + "'") + ", 'mode': '"
                + (maximize ? "max" : "min") + "', 'every_n_train_steps': " + everyNTrainSteps
                + ", 'every_n_epochs': " + everyNEpochs + ", 'train_time_interval': " + pythonInterval() + "}";
    }

    /** The interval as Python prints a {@code timedelta}, as in Lightning's state key. */
    private String pythonInterval() {
        if (trainTimeInterval == null) {
            return "None";
        }
        long days = trainTimeInterval.toDays();
        long seconds = trainTimeInterval.minusDays(days).getSeconds();
        long micros = trainTimeInterval.getNano() / 1000;
        List<String> parts = new ArrayList<>();
        if (days != 0) {
            parts.add("days=" + days);
        }
        if (seconds != 0) {
            parts.add("seconds=" + seconds);
        }
        if (micros != 0) {
            parts.add("microseconds=" + micros);
        }
        return "datetime.timedelta(" + (parts.isEmpty() ? "0" : String.join(", ", parts)) + ")";
    }

    @Override
    public boolean monitorsMetrics() {
        return true;
    }

    @Override
    public void setup(Trainer trainer, LightningModule module, TrainerFn stage) {
        dirpath = resolveDir(trainer);
        if (stage == TrainerFn.FIT && saveTopK != 0 && Files.isDirectory(dirpath)) {
            try (Stream<Path> files = Files.list(dirpath)) {
                if (files.findAny().isPresent()) {
                    LOG.warn("Checkpoint directory {} exists and is not empty.", dirpath);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    private Path resolveDir(Trainer trainer) {
        if (userDirpath != null) {
            return userDirpath.toAbsolutePath();
        }
        Logger logger = trainer.logger();
        if (logger != null && logger.logDir() != null) {
            return logger.logDir().resolve("checkpoints").toAbsolutePath();
        }
        return trainer.defaultRootDir().resolve("checkpoints").toAbsolutePath();
    }

    @Override
    public void onTrainStart(Trainer trainer, LightningModule module) {
        lastTimeChecked = System.nanoTime();
    }

    @Override
    public void onTrainBatchEnd(
            Trainer trainer, LightningModule module, Map<String, Object> outputs, Batch batch, int batchIdx) {
        boolean skipBatch = everyNTrainSteps < 1 || trainer.globalStep() % everyNTrainSteps != 0;
        boolean skipTime = true;
        long now = 0;
        if (trainTimeInterval != null) {
            now = System.nanoTime();
            skipTime = lastTimeChecked < 0 || now - lastTimeChecked < trainTimeInterval.toNanos();
        }
        if (skipBatch && skipTime) {
            return;
        }
        if (!skipTime) {
            lastTimeChecked = now;
        }
        Map<String, Number> candidates = monitorCandidates(trainer);
        if (monitor != null && !candidates.containsKey(monitor)) {
            deferUntilValidation = true;
            return;
        }
        if (monitor != null && !shouldSaveOnTrainEpochEnd(trainer)
                && trainer.fitLoop().epochLoop().batchProgress().isLastBatch() && validationWillRun(trainer)) {
            deferUntilValidation = true;
            return;
        }
        if (shouldSkip(trainer)) {
            return;
        }
        saveTopK(trainer, candidates);
        saveLastCheckpoint(trainer, candidates);
    }

    private static boolean validationWillRun(Trainer trainer) {
        if (plannedValidationBatches(trainer) == 0) {
            return false;
        }
        Integer every = trainer.config().effectiveCheckValEveryNEpoch();
        return every == null || (trainer.currentEpoch() + 1) % every == 0;
    }

    @Override
    public void onTrainEpochEnd(Trainer trainer, LightningModule module) {
        if (!shouldSkip(trainer) && shouldSaveOnTrainEpochEnd(trainer)) {
            saveOnEpoch(trainer);
        }
    }

    @Override
    public void onValidationEnd(Trainer trainer, LightningModule module) {
        if (shouldSkip(trainer) || shouldSaveOnTrainEpochEnd(trainer)) {
            return;
        }
        Map<String, Number> candidates = monitorCandidates(trainer);
        if (deferUntilValidation) {
            saveTopK(trainer, candidates);
            saveLastCheckpoint(trainer, candidates);
            deferUntilValidation = false;
            return;
        }
        saveOnEpoch(trainer);
    }

    private void saveOnEpoch(Trainer trainer) {
        Map<String, Number> candidates = monitorCandidates(trainer);
        if (everyNEpochs >= 1 && (trainer.currentEpoch() + 1) % everyNEpochs == 0) {
            saveTopK(trainer, candidates);
        }
        // better than Lightning: last.ckpt follows every epoch end, whether or not a top-k checkpoint was written
        saveLastCheckpoint(trainer, candidates);
    }

    @Override
    public void onTrainEnd(Trainer trainer, LightningModule module) {
        // the newest state is in last.ckpt, also when training ended between save points
        if (saveLast && !trainer.isFastDevRun() && trainer.globalStep() > 0
                && lastGlobalStepSaved != trainer.globalStep()) {
            saveLastCheckpoint(trainer, monitorCandidates(trainer));
        }
    }

    /** With {@code saveOnException}, saves a checkpoint (and {@code last.ckpt}) when the run fails. */
    @Override
    public void onException(Trainer trainer, LightningModule module, Throwable exception) {
        if (!saveOnException || trainer.isFastDevRun() || trainer.isSanityChecking() || dirpath == null
                || lastGlobalStepSaved == trainer.globalStep() || trainer.fn() != TrainerFn.FIT) {
            return;
        }
        Map<String, Number> candidates = monitorCandidates(trainer);
        Path file = uniquePath(candidates, filename, null);
        save(trainer, file);
        saveLastCheckpoint(trainer, candidates);
        LOG.info("{} was raised ({}); saved a checkpoint to {}", exception.getClass().getSimpleName(),
                exception.getMessage(), file);
    }

    private boolean shouldSkip(Trainer trainer) {
        return trainer.isFastDevRun()
                || trainer.fn() != TrainerFn.FIT
                || trainer.isSanityChecking()
                || lastGlobalStepSaved == trainer.globalStep();
    }

    private boolean shouldSaveOnTrainEpochEnd(Trainer trainer) {
        if (saveOnTrainEpochEnd != null) {
            return saveOnTrainEpochEnd;
        }
        Integer every = trainer.config().effectiveCheckValEveryNEpoch();
        if (every == null || every != 1) {
            return false;
        }
        return plannedValidationBatches(trainer) == 0 || trainer.config().validatesOncePerEpoch();
    }

    private static long plannedValidationBatches(Trainer trainer) {
        if (!trainer.fitLoop().validationEnabled()) {
            return 0;
        }
        return trainer.numValBatches().stream().mapToLong(n -> n < 0 ? 1 : n).sum();
    }

    /** The metrics a file name or ranking can use, with {@code epoch} and {@code step} as integers. */
    private static Map<String, Number> monitorCandidates(Trainer trainer) {
        Map<String, Number> candidates = new LinkedHashMap<>(trainer.callbackMetrics());
        Number epoch = candidates.get("epoch");
        candidates.put("epoch", epoch == null ? (Number) (long) trainer.currentEpoch() : (Number) epoch.longValue());
        Number step = candidates.get("step");
        candidates.put("step", step == null ? (Number) trainer.globalStep() : (Number) step.longValue());
        return candidates;
    }

    private void saveTopK(Trainer trainer, Map<String, Number> candidates) {
        if (saveTopK == 0) {
            return;
        }
        if (monitor == null) {
            saveNoneMonitor(trainer, candidates);
            return;
        }
        Number current = candidates.get(monitor);
        if (current == null) {
            String message = "ModelCheckpoint(monitor='" + monitor + "') could not find the monitored metric. Logged"
                    + " metrics are: " + candidates.keySet() + ". Log it with log(\"" + monitor + "\", ...) or fix"
                    + " monitor.";
            if (trainer.fitLoop().epochLoop().valLoop().hasRun()) {
                throw new MisconfigurationException(message);
            }
            LOG.warn(message);
            return;
        }
        double score = current.doubleValue();
        if (isTopK(score)) {
            updateBestAndSave(trainer, score, candidates);
        } else if (verbose) {
            LOG.info("Epoch {}, global step {}: '{}' was not in top {}", candidates.get("epoch"),
                    candidates.get("step"), monitor, saveTopK);
        }
    }

    private boolean isTopK(double score) {
        if (saveTopK == -1 || bestKModels.size() < saveTopK) {
            return true;
        }
        double kth = bestKModels.get(kthBestModelPath);
        return maximize ? score > kth : score < kth;
    }

    private void updateBestAndSave(Trainer trainer, double score, Map<String, Number> candidates) {
        int k = saveTopK == -1 ? bestKModels.size() + 1 : saveTopK;
        String deletePath = null;
        if (bestKModels.size() == k && k > 0) {
            deletePath = kthBestModelPath;
            bestKModels.remove(deletePath);
        }
        double ranked = Double.isNaN(score) ? (maximize ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY)
                : score;
        Path file = uniquePath(candidates, filename, deletePath);
        currentScore = ranked;
        bestKModels.put(file.toString(), ranked);
        Comparator<Map.Entry<String, Double>> byScore = Map.Entry.comparingByValue();
        if (bestKModels.size() == k) {
            Map.Entry<String, Double> worst = maximize
                    ? bestKModels.entrySet().stream().min(byScore).orElseThrow()
                    : bestKModels.entrySet().stream().max(byScore).orElseThrow();
            kthBestModelPath = worst.getKey();
            kthValue = worst.getValue();
        }
        Map.Entry<String, Double> best = maximize
                ? bestKModels.entrySet().stream().max(byScore).orElseThrow()
                : bestKModels.entrySet().stream().min(byScore).orElseThrow();
        bestModelPath = best.getKey();
        bestModelScore = best.getValue();
        if (verbose) {
            LOG.info(String.format(Locale.ROOT, "Epoch %s, global step %s: '%s' reached %.5f (best %.5f), saving"
                    + " model to '%s' as top %d", candidates.get("epoch"), candidates.get("step"), monitor, ranked,
                    bestModelScore, file, k));
        }
        save(trainer, file);
        if (deletePath != null && !deletePath.equals(file.toString())) {
            remove(Paths.get(deletePath));
        }
    }

    private void saveNoneMonitor(Trainer trainer, Map<String, Number> candidates) {
        Path file = uniquePath(candidates, filename, bestModelPath.isEmpty() ? null : bestModelPath);
        String previous = bestModelPath;
        bestModelPath = file.toString();
        save(trainer, file);
        if (saveTopK == 1 && !previous.isEmpty() && !previous.equals(bestModelPath)) {
            remove(Paths.get(previous));
        }
    }

    private void saveLastCheckpoint(Trainer trainer, Map<String, Number> candidates) {
        if (saveLast) {
            writeLast(trainer, candidates, saveWeightsOnly);
        }
    }

    private Path writeLast(Trainer trainer, Map<String, Number> candidates, boolean weightsOnly) {
        Path file = uniquePath(candidates, NAME_LAST, lastModelPath.isEmpty() ? null : lastModelPath);
        String previous = lastModelPath;
        lastModelPath = file.toString();
        save(trainer, file, weightsOnly);
        if (!previous.isEmpty() && !previous.equals(lastModelPath)) {
            remove(Paths.get(previous));
        }
        return file;
    }

    /**
     * Writes {@code last.ckpt} now, whether or not {@code saveLast} is on, and always with the training state (also
     * with {@code saveWeightsOnly}): used when training is interrupted, so {@code ckptPath="last"} resumes from the
     * newest state.
     *
     * @param trainer the running Trainer
     * @return the file written
     */
    public Path saveLastNow(Trainer trainer) {
        return writeLast(trainer, monitorCandidates(trainer), false);
    }

    private void save(Trainer trainer, Path file) {
        save(trainer, file, saveWeightsOnly);
    }

    private void save(Trainer trainer, Path file, boolean weightsOnly) {
        trainer.saveCheckpoint(file, weightsOnly);
        lastGlobalStepSaved = trainer.globalStep();
        for (Logger logger : trainer.loggers()) {
            logger.afterSaveCheckpoint(file);
        }
    }

    private void remove(Path file) {
        if (!file.toAbsolutePath().startsWith(dirpath)) {
            return;
        }
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            LOG.warn("Could not remove the old checkpoint {}: {}", file, e.getMessage());
        }
    }

    private Path uniquePath(Map<String, Number> candidates, String template, String replaceable) {
        Path file = dirpath.resolve(formatName(template, candidates, null));
        if (enableVersionCounter) {
            int version = 1;
            while (Files.exists(file) && !file.toString().equals(replaceable)) {
                file = dirpath.resolve(formatName(template, candidates, version++));
            }
        }
        return file;
    }

    /**
     * The file name for a template and metrics, Lightning's {@code format_checkpoint_name}.
     *
     * @param template e.g. {@code {epoch}-{val_loss:.2f}}; null for {@code {epoch}-{step}}
     * @param metrics the values; missing ones count as 0
     * @param version the {@code -vN} suffix, or null
     * @return the file name with {@code .ckpt}
     */
    public String formatName(String template, Map<String, Number> metrics, Integer version) {
        String pattern = template == null || template.isEmpty() ? "{epoch}-{step}" : template;
        Matcher m = GROUP.matcher(pattern);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String name = m.group(1);
            Number value = metrics.getOrDefault(name, 0L);
            String text = PythonFormat.format(value, m.group(2));
            m.appendReplacement(out, Matcher.quoteReplacement(autoInsertMetricName ? name + "=" + text : text));
        }
        m.appendTail(out);
        if (version != null) {
            out.append("-v").append(version);
        }
        return out.append(FILE_EXTENSION).toString();
    }

    /** The folder checkpoints go to (known once fit has set up). */
    public Path dirpath() {
        return dirpath;
    }

    /** The best checkpoint by the monitored metric (or the newest without monitor); empty before any save. */
    public String bestModelPath() {
        return bestModelPath;
    }

    /** The monitored value of the best checkpoint, or null. */
    public Double bestModelScore() {
        return bestModelScore;
    }

    /** The top-k checkpoints and their scores. */
    public Map<String, Double> bestKModels() {
        return new LinkedHashMap<>(bestKModels);
    }

    /** The path of {@code last.ckpt}, or empty. */
    public String lastModelPath() {
        return lastModelPath;
    }

    /** The monitored metric, or null. */
    public String monitor() {
        return monitor;
    }

    @Override
    public Map<String, Object> stateDict() {
        Map<String, Object> state = new LinkedHashMap<>();
        state.put("monitor", monitor);
        state.put("best_model_score", bestModelScore);
        state.put("best_model_path", bestModelPath);
        state.put("current_score", currentScore);
        state.put("dirpath", dirpath == null ? null : dirpath.toString());
        state.put("best_k_models", new LinkedHashMap<>(bestKModels));
        state.put("kth_best_model_path", kthBestModelPath);
        state.put("kth_value", kthValue);
        state.put("last_model_path", lastModelPath);
        return state;
    }

    @Override
    @SuppressWarnings("unchecked")
    public void loadStateDict(Map<String, Object> state) {
        String savedDir = (String) state.get("dirpath");
        bestModelPath = (String) state.getOrDefault("best_model_path", "");
        if (dirpath != null && savedDir != null && !Paths.get(savedDir).equals(dirpath)) {
            LOG.warn("The checkpoint was saved to {} and now goes to {}: only best_model_path is restored.",
                    savedDir, dirpath);
            return;
        }
        bestModelScore = number(state.get("best_model_score"));
        currentScore = number(state.get("current_score"));
        bestKModels.clear();
        Object best = state.get("best_k_models");
        if (best instanceof Map) {
            for (Map.Entry<String, Object> entry : ((Map<String, Object>) best).entrySet()) {
                bestKModels.put(entry.getKey(), number(entry.getValue()));
            }
        }
        kthBestModelPath = (String) state.getOrDefault("kth_best_model_path", "");
        kthValue = number(state.get("kth_value"));
        lastModelPath = (String) state.getOrDefault("last_model_path", "");
    }

    private static Double number(Object value) {
        return value instanceof Number ? ((Number) value).doubleValue() : null;
    }

    /** The checkpoint files this callback would keep, for tests and tools. */
    public List<String> keptFiles() {
        List<String> out = new ArrayList<>(bestKModels.keySet());
        if (!bestModelPath.isEmpty() && !out.contains(bestModelPath)) {
            out.add(bestModelPath);
        }
        if (!lastModelPath.isEmpty()) {
            out.add(lastModelPath);
        }
        return out;
    }

    /** Configures a {@link ModelCheckpoint}; every setter has Lightning's default. */
    public static class Builder {
        private Path dirpath;
        private String filename;
        private String monitor;
        private boolean verbose;
        private boolean saveLast;
        private int saveTopK = 1;
        private boolean saveWeightsOnly;
        private boolean maximize;
        private boolean autoInsertMetricName = true;
        private int everyNTrainSteps;
        private Integer everyNEpochs;
        private Boolean saveOnTrainEpochEnd;
        private boolean enableVersionCounter = true;
        private Duration trainTimeInterval;
        private boolean saveOnException;

        /** Where checkpoints go (default: the logger's version folder + {@code /checkpoints}). */
        public Builder dirpath(Path value) {
            dirpath = value;
            return this;
        }

        /** The file name template, e.g. {@code {epoch}-{val_loss:.2f}} (default {@code {epoch}-{step}}). */
        public Builder filename(String value) {
            filename = value;
            return this;
        }

        /** The metric that ranks checkpoints (default none: the newest is kept). */
        public Builder monitor(String value) {
            monitor = value;
            return this;
        }

        /** Whether each save is reported in the log. */
        public Builder verbose(boolean value) {
            verbose = value;
            return this;
        }

        /** Whether {@code last.ckpt} is kept up to date. */
        public Builder saveLast(boolean value) {
            saveLast = value;
            return this;
        }

        /** How many of the best checkpoints to keep: -1 all, 0 none (default 1). */
        public Builder saveTopK(int value) {
            saveTopK = value;
            return this;
        }

        /** Whether to save only the weights (no optimizer or callback state). */
        public Builder saveWeightsOnly(boolean value) {
            saveWeightsOnly = value;
            return this;
        }

        /** {@code "min"} (default, lower is better) or {@code "max"}. */
        public Builder mode(String value) {
            if (!"min".equals(value) && !"max".equals(value)) {
                throw new MisconfigurationException("ModelCheckpoint mode must be 'min' or 'max', got '" + value
                        + "'");
            }
            maximize = "max".equals(value);
            return this;
        }

        /** Whether {@code {name}} in the template becomes {@code name=value} (default true). */
        public Builder autoInsertMetricName(boolean value) {
            autoInsertMetricName = value;
            return this;
        }

        /** Saves every n optimizer steps instead of every epoch. */
        public Builder everyNTrainSteps(int value) {
            everyNTrainSteps = value;
            return this;
        }

        /** Saves every n epochs (default 1). */
        public Builder everyNEpochs(int value) {
            everyNEpochs = value;
            return this;
        }

        /** Saves at the end of the training epoch (true) or after validation (false); default: decided by flags. */
        public Builder saveOnTrainEpochEnd(boolean value) {
            saveOnTrainEpochEnd = value;
            return this;
        }

        /** Whether a name that exists gets {@code -v1}, {@code -v2} (default true) instead of being overwritten. */
        public Builder enableVersionCounter(boolean value) {
            enableVersionCounter = value;
            return this;
        }

        /**
         * Also saves whenever this much training time has passed since the last time-based save (checked after each
         * training batch); mutually exclusive with {@link #everyNTrainSteps} and {@link #everyNEpochs}.
         */
        public Builder trainTimeInterval(Duration value) {
            if (value != null && value.isNegative()) {
                throw new MisconfigurationException("ModelCheckpoint trainTimeInterval must not be negative, got "
                        + value);
            }
            trainTimeInterval = value;
            return this;
        }

        /** Whether to save a checkpoint (and {@code last.ckpt}) when an exception ends the fit (default false). */
        public Builder saveOnException(boolean value) {
            saveOnException = value;
            return this;
        }

        /** Builds the callback. */
        public ModelCheckpoint build() {
            return new ModelCheckpoint(this);
        }
    }
}
