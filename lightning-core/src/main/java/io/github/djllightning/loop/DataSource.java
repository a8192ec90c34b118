package io.github.djllightning.loop;

import io.github.djllightning.data.DataLoader;
import io.github.djllightning.module.LightningDataModule;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.trainer.Hook;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Where one loop's loaders come from, with Lightning's precedence: loaders given to the Trainer call, else the data
 * module's hook, else the module's hook.
 */
public final class DataSource {

    /** Which loop the source feeds. */
    public enum Kind {
        /** Training. */
        TRAIN(Hook.TRAIN_DATALOADER),
        /** Validation. */
        VAL(Hook.VAL_DATALOADER),
        /** Test. */
        TEST(Hook.TEST_DATALOADER),
        /** Prediction. */
        PREDICT(Hook.PREDICT_DATALOADER);

        private final Hook hook;

        Kind(Hook hook) {
            this.hook = hook;
        }

        String methodName() {
            return name().toLowerCase(Locale.ROOT) + "Dataloader";
        }
    }

    private final Kind kind;
    private final List<DataLoader> explicit;
    private final LightningDataModule datamodule;
    private final LightningModule module;

    /**
     * Creates a source.
     *
     * @param kind the loop
     * @param explicit loaders given to the Trainer call, or null
     * @param datamodule the data module, or null
     * @param module the module
     */
    public DataSource(Kind kind, List<DataLoader> explicit, LightningDataModule datamodule, LightningModule module) {
        this.kind = kind;
        this.explicit = explicit;
        this.datamodule = datamodule;
        this.module = module;
    }

    /** Whether the source can give loaders: explicit ones, or an overridden hook. */
    public boolean isDefined() {
        if (explicit != null) {
            return !explicit.isEmpty();
        }
        Object owner = datamodule != null ? datamodule : module;
        Class<?> base = datamodule != null ? LightningDataModule.class : LightningModule.class;
        String single = kind.methodName();
        return Overrides.overrides(owner, base, single) || Overrides.overrides(owner, base, single + "s");
    }

    /** Describes where loaders would come from, for error messages. */
    public String describe() {
        if (explicit != null) {
            return "the loaders passed to the Trainer";
        }
        if (datamodule != null) {
            return datamodule.getClass().getSimpleName() + "." + kind.methodName() + "()";
        }
        return module.getClass().getSimpleName() + "." + kind.methodName() + "()";
    }

    /**
     * Gets the loaders, calling the hook when they come from one.
     *
     * @param hooks the dispatcher, for the hook's context
     * @return the loaders, possibly empty
     */
    public List<DataLoader> loaders(Hooks hooks) {
        if (explicit != null) {
            return explicit;
        }
        List<DataLoader> loaders = hooks.moduleValue(kind.hook, () -> {
            if (datamodule != null) {
                switch (kind) {
                    case TRAIN: return single(datamodule.trainDataloader());
                    case VAL: return datamodule.valDataloaders();
                    case TEST: return datamodule.testDataloaders();
                    default: return datamodule.predictDataloaders();
                }
            }
            switch (kind) {
                case TRAIN: return single(module.trainDataloader());
                case VAL: return module.valDataloaders();
                case TEST: return module.testDataloaders();
                default: return module.predictDataloaders();
            }
        });
        List<DataLoader> out = new ArrayList<>();
        for (DataLoader loader : loaders == null ? List.<DataLoader>of() : loaders) {
            if (loader == null) {
                throw new IllegalArgumentException(describe() + " returned a null loader.");
            }
            out.add(loader);
        }
        return out;
    }

    private static List<DataLoader> single(DataLoader loader) {
        return loader == null ? List.of() : List.of(loader);
    }
}
