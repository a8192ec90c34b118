package io.github.djllightning.cli;

import io.github.djllightning.module.LightningDataModule;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.trainer.Trainer;
import io.github.djllightning.trainer.TrainerConfig;
import java.io.IOException;
import java.io.PrintStream;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Collectors;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * Lightning's {@code LightningCLI}: a command line for a module class and an optional data module class, whose
 * constructors take a hyperparameters record.
 *
 * <pre>{@code
 * public static void main(String[] args) {
 *     int code = new LightningCLI(LitClassifier.class, MnistDataModule.class).execute(args);
 *     System.exit(code);
 * }
 * }</pre>
 *
 * <pre>
 * prog fit --trainer.max_epochs=5 --model.hidden 64 --data.batch_size=32
 * prog fit --config base.yaml --config small.yaml --trainer.limit_train_batches 0.1
 * prog fit --print_config &gt; config.yaml
 * prog test --ckpt_path lightning_logs/version_0/checkpoints/last.ckpt
 * prog --help
 * </pre>
 *
 * <p><b>Subcommands</b> {@code fit}, {@code validate}, {@code test} and {@code predict} call the Trainer method of
 * that name; each takes {@code --ckpt_path} ({@code null}, a file, {@code last} or {@code best}).
 *
 * <p><b>Options.</b> {@code --trainer.<flag>} for every value flag of {@link TrainerConfig.Builder}, under
 * Lightning's snake_case name ({@code --trainer.max_epochs}, {@code --trainer.limit_train_batches 0.25}, {@code
 * --trainer.max_time 00:01:00:00}); {@code --model.<component>} and {@code --data.<component>} for each component of
 * the module's and data module's hyperparameters record ({@code batchSize} is {@code --data.batch_size}). A value is
 * given as {@code --name=value} or {@code --name value}; a boolean flag alone means true; {@code null} clears a value
 * that may be null. Defaults come from the record's {@code static defaults()} method or no-argument constructor (or
 * {@link Builder#modelDefaults}); without them every component must be given.
 *
 * <p><b>Config files.</b> {@code -c/--config FILE} reads YAML with the sections {@code trainer}, {@code model}, {@code
 * data} and the key {@code ckpt_path}, as {@code --print_config} prints it. Several files may be given, before or
 * after the subcommand: later files override earlier ones, and flags override all files. The resolved config is saved
 * as {@code config.yaml} in the run's log folder ({@link SaveConfigCallback}).
 *
 * <p><b>Errors.</b> An unknown option, an ill-typed value or a bad config file throws a {@link CliException} naming
 * the option, what is valid and the closest option name, with {@link CliException#exitCode()} 2. The library never
 * exits the JVM: {@link #execute} returns the exit code for the program's {@code main}.
 */
public final class LightningCLI {

    /** The subcommands, in the order the help lists them. */
    public static final List<String> SUBCOMMANDS = List.of("fit", "validate", "test", "predict");

    private static final Map<String, String> SUBCOMMAND_HELP = Map.of(
            "fit", "train the model (validating as the trainer options say)",
            "validate", "run one validation epoch",
            "test", "run one test epoch",
            "predict", "predict on the prediction data");

    private final Class<? extends LightningModule> modelClass;
    private final Class<? extends LightningDataModule> dataClass;
    private final TrainerConfig trainerDefaults;
    private final RecordOptions modelOptions;
    private final RecordOptions dataOptions;
    private final boolean saveConfig;
    private final boolean overwriteConfig;
    private final PrintStream out;
    private final PrintStream err;
    private final String programName;
    private final Map<String, Option> options = new LinkedHashMap<>();

    /**
     * A command line for a module built from its hyperparameters, whose own loader hooks give the data.
     *
     * @param modelClass the module class
     */
    public LightningCLI(Class<? extends LightningModule> modelClass) {
        this(builder(modelClass));
    }

    /**
     * A command line for a module and a data module, both built from their hyperparameters.
     *
     * @param modelClass the module class
     * @param dataClass the data module class
     */
    public LightningCLI(Class<? extends LightningModule> modelClass, Class<? extends LightningDataModule> dataClass) {
        this(builder(modelClass).datamodule(dataClass));
    }

    private LightningCLI(Builder builder) {
        this.modelClass = builder.modelClass;
        this.dataClass = builder.dataClass;
        this.trainerDefaults = builder.trainerDefaults;
        this.saveConfig = builder.saveConfig;
        this.overwriteConfig = builder.overwriteConfig;
        this.out = builder.out;
        this.err = builder.err;
        this.programName = builder.programName;
        this.modelOptions = RecordOptions.of("model", modelClass, builder.modelDefaults);
        this.dataOptions = dataClass == null ? null : RecordOptions.of("data", dataClass, builder.dataDefaults);
        add(new Option("ckpt_path", ValueType.STRING.nullable(), null, false,
                "a checkpoint to start from: a .ckpt file, last or best"));
        TrainerOptions.options(trainerDefaults).forEach(this::add);
        modelOptions.options().forEach(this::add);
        if (dataOptions != null) {
            dataOptions.options().forEach(this::add);
        }
    }

    private void add(Option option) {
        options.put(option.key(), option);
    }

    /**
     * Starts a builder, to set defaults or where output goes.
     *
     * @param modelClass the module class
     * @return the builder
     */
    public static Builder builder(Class<? extends LightningModule> modelClass) {
        return new Builder(modelClass);
    }

    /**
     * Parses the command line and runs it, printing errors instead of throwing them.
     *
     * @param args the command line
     * @return the exit code for {@code main}: 0 on success, 2 for a usage error, 1 for another failure
     */
    public int execute(String... args) {
        try (CliResult result = run(args)) {
            return 0;
        } catch (CliException e) {
            err.println(programName + ": error: " + e.getMessage());
            if (e.exitCode() == CliException.USAGE) {
                err.println("Run '" + programName + " --help' for the options.");
            }
            return e.exitCode();
        } catch (RuntimeException e) {
            // a failure of the run itself (a misconfiguration, a non-finite loss, the engine): reported, exit code 1
            err.println(programName + ": " + e.getClass().getSimpleName() + ": " + e.getMessage());
            return CliException.FAILURE;
        }
    }

    /**
     * Parses the command line and runs it: prints the help or the config, or builds the Trainer, the module and the
     * data module and runs the subcommand.
     *
     * @param args the command line
     * @return what ran; close it to close the module
     * @throws CliException for an unknown or ill-typed option, a bad config file, a missing required value or a
     *     {@code config.yaml} that would be overwritten
     */
    public CliResult run(String... args) {
        Parsed parsed = parse(args);
        if (parsed.help) {
            String help = help(parsed.subcommand);
            out.print(help);
            return new CliResult(parsed.subcommand, null, help, null, null, null, null);
        }
        if (parsed.subcommand == null) {
            throw CliException.usage("a subcommand is required: one of " + SUBCOMMANDS + ".");
        }
        Map<String, Object> config = resolve(parsed);
        String yaml = toYaml(config);
        if (parsed.printConfig) {
            out.print(yaml);
            return new CliResult(parsed.subcommand, config, yaml, null, null, null, null);
        }
        return instantiateAndRun(parsed.subcommand, config, yaml);
    }

    /**
     * Parses the command line and resolves the config (defaults, then the config files, then the flags) without
     * running anything.
     *
     * @param args the command line, with or without a subcommand
     * @return the resolved config, sections {@code trainer}, {@code model}, {@code data} and {@code ckpt_path}
     * @throws CliException for an unknown or ill-typed option or a bad config file
     */
    public Map<String, Object> parseConfig(String... args) {
        return resolve(parse(args));
    }

    /** The help text: the subcommands and every option with its type and default. */
    public String help() {
        return help(null);
    }

    // ------------------------------------------------------------------ parsing

    private static final class Parsed {
        String subcommand;
        boolean help;
        boolean printConfig;
        final List<String> configFiles = new ArrayList<>();
        final List<Map.Entry<Option, String>> flags = new ArrayList<>();
    }

    private Parsed parse(String[] args) {
        Parsed parsed = new Parsed();
        for (int i = 0; i < args.length; i++) {
            String arg = Objects.requireNonNull(args[i], "args must not contain null");
            if (!arg.startsWith("-")) {
                if (parsed.subcommand != null) {
                    throw CliException.usage("unexpected argument '" + arg + "' after the subcommand "
                            + parsed.subcommand + "; options start with --, e.g. --trainer.max_epochs=5.");
                }
                if (!SUBCOMMANDS.contains(arg)) {
                    throw CliException.usage("unknown subcommand '" + arg + "'" + suggestion(arg, SUBCOMMANDS, "")
                            + " Subcommands: " + String.join(", ", SUBCOMMANDS) + ".");
                }
                parsed.subcommand = arg;
                continue;
            }
            String name = arg;
            String value = null;
            int eq = arg.indexOf('=');
            if (arg.startsWith("--") && eq > 0) {
                name = arg.substring(0, eq);
                value = arg.substring(eq + 1);
            }
            switch (name) {
                case "-h", "--help" -> parsed.help = true;
                case "--print_config" -> parsed.printConfig = true;
                case "-c", "--config" -> {
                    if (value == null) {
                        if (i + 1 >= args.length) {
                            throw CliException.usage(name + " needs a YAML file: " + name + " config.yaml");
                        }
                        value = args[++i];
                    }
                    parsed.configFiles.add(value);
                }
                default -> {
                    Option option = options.get(name.startsWith("--") ? name.substring(2) : "");
                    if (option == null) {
                        throw unknown(name);
                    }
                    if (value == null) {
                        String next = i + 1 < args.length ? args[i + 1] : null;
                        if (option.type().isBoolean() && (next == null || !takesAsValue(option, next))) {
                            value = "true";
                        } else if (next == null) {
                            throw CliException.usage(name + " needs a value (" + option.type().describe() + "): "
                                    + name + "=VALUE or " + name + " VALUE.");
                        } else {
                            value = args[++i];
                        }
                    }
                    parsed.flags.add(Map.entry(option, value));
                }
            }
        }
        return parsed;
    }

    /** Whether the token after a boolean flag is its value rather than the next argument. */
    private static boolean takesAsValue(Option option, String next) {
        try {
            option.type().fromText(next);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private CliException unknown(String flag) {
        String key = flag.replaceFirst("^-+", "");
        int dot = key.indexOf('.');
        String section = dot < 0 ? "" : key.substring(0, dot);
        List<String> sameSection = new ArrayList<>();
        List<String> all = new ArrayList<>(List.of("--config", "--print_config", "--help"));
        for (Option option : options.values()) {
            all.add(option.flag());
            if (option.section().equals(section)) {
                sameSection.add(option.flag());
            }
        }
        String choices;
        if (!sameSection.isEmpty() && !section.isEmpty()) {
            choices = " Valid " + section + " options: " + String.join(", ", sameSection) + ".";
        } else {
            choices = " Valid options: --config, --print_config, --help, --ckpt_path, and the sections"
                    + sections().stream().map(s -> " --" + s + ".*").collect(Collectors.joining(",")) + ".";
        }
        return CliException.usage("unknown option " + flag + "." + suggestion(flag, all, "") + choices);
    }

    private List<String> sections() {
        return dataOptions == null ? List.of("trainer", "model") : List.of("trainer", "model", "data");
    }

    /** {@code " Did you mean X?"} for the closest candidate, or empty when none is close. */
    private static String suggestion(String wrong, List<String> candidates, String prefix) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String candidate : candidates) {
            int d = distance(wrong.toLowerCase(Locale.ROOT), candidate.toLowerCase(Locale.ROOT));
            if (d < bestDistance) {
                bestDistance = d;
                best = candidate;
            }
        }
        int tolerance = Math.max(2, wrong.length() / 3);
        return best != null && bestDistance <= tolerance ? " Did you mean " + prefix + best + "?" : "";
    }

    /** Levenshtein distance. */
    static int distance(String a, String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int substitute = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitute, Math.min(previous[j] + 1, current[j - 1] + 1));
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }

    // ------------------------------------------------------------------ resolving

    private Map<String, Object> resolve(Parsed parsed) {
        Map<String, Object> config = new LinkedHashMap<>();
        for (String section : sections()) {
            config.put(section, new LinkedHashMap<String, Object>());
        }
        config.put("ckpt_path", null);
        for (Option option : options.values()) {
            set(config, option, option.defaultValue());
        }
        for (String file : parsed.configFiles) {
            mergeFile(config, file);
        }
        for (Map.Entry<Option, String> flag : parsed.flags) {
            Option option = flag.getKey();
            Object value;
            try {
                value = option.type().fromText(flag.getValue());
            } catch (IllegalArgumentException e) {
                throw CliException.usage(option.flag() + ": " + e.getMessage() + "." + validValues(option));
            }
            set(config, option, value);
        }
        return config;
    }

    private static String validValues(Option option) {
        return " " + option.flag() + " takes " + option.type().describe() + " (default: "
                + formatDefault(option) + ").";
    }

    @SuppressWarnings("unchecked")
    private static void set(Map<String, Object> config, Option option, Object value) {
        if (option.section().isEmpty()) {
            config.put(option.key(), value);
        } else {
            ((Map<String, Object>) config.get(option.section())).put(option.name(), value);
        }
    }

    private void mergeFile(Map<String, Object> config, String file) {
        Path path = Paths.get(file);
        Object loaded;
        try (Reader reader = Files.newBufferedReader(path, StandardCharsets.UTF_8)) {
            loaded = ValueType.yaml().load(reader);
        } catch (NoSuchFileException e) {
            throw CliException.usage("--config " + file + ": no such file (" + path.toAbsolutePath() + ").");
        } catch (IOException e) {
            throw CliException.usage("--config " + file + ": cannot read it: " + e.getMessage());
        } catch (YAMLException e) {
            throw CliException.usage("--config " + file + ": not valid YAML: " + e.getMessage());
        }
        if (loaded == null) {
            return;
        }
        if (!(loaded instanceof Map)) {
            throw CliException.usage("--config " + file + ": expected a mapping with the sections "
                    + sections() + " and ckpt_path, got " + loaded);
        }
        for (Map.Entry<?, ?> entry : ((Map<?, ?>) loaded).entrySet()) {
            String key = String.valueOf(entry.getKey());
            if (sections().contains(key)) {
                mergeSection(config, file, key, entry.getValue());
            } else if (options.containsKey(key)) {
                setFromYaml(config, file, options.get(key), entry.getValue());
            } else {
                List<String> valid = new ArrayList<>(sections());
                valid.add("ckpt_path");
                throw CliException.usage("--config " + file + ": unknown key '" + key + "'."
                        + suggestion(key, valid, "") + " Valid top-level keys: " + String.join(", ", valid) + ".");
            }
        }
    }

    private void mergeSection(Map<String, Object> config, String file, String section, Object value) {
        if (value == null) {
            return;
        }
        if (!(value instanceof Map)) {
            throw CliException.usage("--config " + file + ": '" + section + "' must be a mapping of option names"
                    + " to values, got " + value);
        }
        for (Map.Entry<?, ?> entry : ((Map<?, ?>) value).entrySet()) {
            String key = section + "." + entry.getKey();
            Option option = options.get(key);
            if (option == null) {
                List<String> names = new ArrayList<>();
                for (Option o : options.values()) {
                    if (o.section().equals(section)) {
                        names.add(o.name());
                    }
                }
                throw CliException.usage("--config " + file + ": unknown " + section + " option '" + entry.getKey()
                        + "'." + suggestion(String.valueOf(entry.getKey()), names, "")
                        + " Valid " + section + " options: " + String.join(", ", names) + ".");
            }
            setFromYaml(config, file, option, entry.getValue());
        }
    }

    private static void setFromYaml(Map<String, Object> config, String file, Option option, Object value) {
        try {
            set(config, option, option.type().fromYaml(value));
        } catch (IllegalArgumentException e) {
            throw CliException.usage("--config " + file + ": " + option.key() + ": " + e.getMessage() + "."
                    + validValues(option));
        }
    }

    // ------------------------------------------------------------------ running

    @SuppressWarnings("unchecked")
    private CliResult instantiateAndRun(String subcommand, Map<String, Object> config, String yaml) {
        TrainerConfig trainerConfig = TrainerOptions.build(trainerDefaults,
                (Map<String, Object>) config.get("trainer"));
        if (saveConfig) {
            trainerConfig = trainerConfig.toBuilder().callbacks(new SaveConfigCallback(yaml, overwriteConfig)).build();
        }
        Trainer trainer = new Trainer(trainerConfig);
        LightningDataModule datamodule = dataOptions == null ? null
                : (LightningDataModule) dataOptions.instantiate((Map<String, Object>) config.get("data"));
        LightningModule model = (LightningModule) modelOptions.instantiate((Map<String, Object>) config.get("model"));
        String ckptPath = (String) config.get("ckpt_path");
        Object results;
        try {
            results = switch (subcommand) {
                case "fit" -> {
                    if (datamodule != null) {
                        trainer.fit(model, datamodule, ckptPath);
                    } else {
                        trainer.fit(model, ckptPath);
                    }
                    yield null;
                }
                case "validate" -> trainer.validate(model, datamodule, ckptPath);
                case "test" -> trainer.test(model, datamodule, ckptPath);
                default -> trainer.predict(model, datamodule, ckptPath);
            };
        } catch (RuntimeException | Error e) {
            model.close();
            throw e;
        }
        return new CliResult(subcommand, config, null, trainer, model, datamodule, results);
    }

    // ------------------------------------------------------------------ output

    /**
     * Prints a config as YAML, in block style, keeping the order of the options.
     *
     * @param config the config
     * @return the YAML text
     */
    public static String toYaml(Map<String, Object> config) {
        DumperOptions options = new DumperOptions();
        options.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
        options.setIndent(2);
        options.setWidth(120);
        return new Yaml(options).dump(config);
    }

    private String help(String subcommand) {
        StringBuilder b = new StringBuilder();
        String command = subcommand == null ? "{" + String.join(",", SUBCOMMANDS) + "}" : subcommand;
        b.append("usage: ").append(programName).append(' ').append(command)
                .append(" [-c FILE]... [--print_config] [--OPTION=VALUE]...\n\n");
        if (subcommand == null) {
            b.append("Lightning command line for ").append(modelClass.getSimpleName())
                    .append(dataClass == null ? "" : " with " + dataClass.getSimpleName()).append(".\n\n");
            b.append("subcommands:\n");
            for (String s : SUBCOMMANDS) {
                b.append(String.format(Locale.ROOT, "  %-10s %s%n", s, SUBCOMMAND_HELP.get(s)));
            }
            b.append('\n');
        } else {
            b.append(SUBCOMMAND_HELP.get(subcommand)).append(".\n\n");
        }
        b.append("options:\n");
        row(b, "-h, --help", "print this help and exit");
        row(b, "-c, --config FILE", "a YAML config; several allowed, later files win, flags win over files");
        row(b, "--print_config", "print the resolved config as YAML and exit without running");
        Option ckpt = options.get("ckpt_path");
        row(b, ckpt.flag() + " " + ckpt.type().describe(), ckpt.help() + " (default: null)");
        section(b, "trainer", "trainer options (Trainer flags):");
        section(b, "model", "model options (" + modelClass.getSimpleName()
                + (modelOptions.recordType() == null ? "" : ", " + modelOptions.recordType().getSimpleName()) + "):");
        if (dataOptions != null) {
            section(b, "data", "data options (" + dataClass.getSimpleName()
                    + (dataOptions.recordType() == null ? "" : ", " + dataOptions.recordType().getSimpleName())
                    + "):");
        }
        return b.toString();
    }

    private void section(StringBuilder b, String section, String title) {
        b.append('\n').append(title).append('\n');
        boolean any = false;
        for (Option option : options.values()) {
            if (option.section().equals(section)) {
                any = true;
                String usage = option.flag() + " " + option.type().describe();
                row(b, usage, option.help() + " (" + (option.required() ? "required" : "default: "
                        + formatDefault(option)) + ")");
            }
        }
        if (!any) {
            b.append("  (none: ").append(section).append(" is built without arguments)\n");
        }
    }

    private static void row(StringBuilder b, String usage, String help) {
        if (usage.length() <= 36) {
            b.append(String.format(Locale.ROOT, "  %-36s %s%n", usage, help));
        } else {
            b.append("  ").append(usage).append('\n').append(" ".repeat(39)).append(help).append('\n');
        }
    }

    private static String formatDefault(Option option) {
        Object value = option.defaultValue();
        return value == null ? "null" : value.toString();
    }

    /** Configures a {@link LightningCLI}. */
    public static final class Builder {

        private final Class<? extends LightningModule> modelClass;
        private Class<? extends LightningDataModule> dataClass;
        private TrainerConfig trainerDefaults = TrainerConfig.defaults();
        private Record modelDefaults;
        private Record dataDefaults;
        private boolean saveConfig = true;
        private boolean overwriteConfig;
        private PrintStream out = System.out;
        private PrintStream err = System.err;
        private String programName = "lightning";

        private Builder(Class<? extends LightningModule> modelClass) {
            this.modelClass = Objects.requireNonNull(modelClass, "modelClass");
        }

        /** The data module class, built from its hyperparameters record; without one the module's hooks give data. */
        public Builder datamodule(Class<? extends LightningDataModule> value) {
            dataClass = Objects.requireNonNull(value, "datamodule");
            return this;
        }

        /**
         * The Trainer configuration the options change: its values are the defaults the help shows, and its
         * callbacks, loggers and profiler (which are objects, not options) are kept. Lightning's {@code
         * trainer_defaults}.
         */
        public Builder trainerDefaults(TrainerConfig value) {
            trainerDefaults = Objects.requireNonNull(value, "trainerDefaults");
            return this;
        }

        /** The default hyperparameters of the module, instead of the record's {@code defaults()}. */
        public Builder modelDefaults(Record value) {
            modelDefaults = Objects.requireNonNull(value, "modelDefaults");
            return this;
        }

        /** The default hyperparameters of the data module, instead of the record's {@code defaults()}. */
        public Builder dataDefaults(Record value) {
            dataDefaults = Objects.requireNonNull(value, "dataDefaults");
            return this;
        }

        /** Whether the resolved config is saved as {@code config.yaml} in the run's log folder (default true). */
        public Builder saveConfig(boolean value) {
            saveConfig = value;
            return this;
        }

        /** Whether an existing {@code config.yaml} in the log folder may be replaced (default false: the run fails). */
        public Builder overwriteConfig(boolean value) {
            overwriteConfig = value;
            return this;
        }

        /** Where the help and {@code --print_config} go (default {@code System.out}). */
        public Builder out(PrintStream value) {
            out = Objects.requireNonNull(value, "out");
            return this;
        }

        /** Where {@link LightningCLI#execute} reports errors (default {@code System.err}). */
        public Builder err(PrintStream value) {
            err = Objects.requireNonNull(value, "err");
            return this;
        }

        /** The program's name in the usage line and messages (default {@code lightning}). */
        public Builder programName(String value) {
            programName = Objects.requireNonNull(value, "programName");
            return this;
        }

        /**
         * Builds the command line.
         *
         * @return the command line
         * @throws IllegalArgumentException when a class has no usable constructor or a record component has a type
         *     that cannot be written on a command line
         */
        public LightningCLI build() {
            return new LightningCLI(this);
        }
    }

    @Override
    public String toString() {
        return "LightningCLI[" + modelClass.getSimpleName()
                + (dataClass == null ? "" : ", " + dataClass.getSimpleName()) + ", subcommands " + SUBCOMMANDS
                + ", options " + Arrays.toString(options.keySet().toArray()) + "]";
    }
}
