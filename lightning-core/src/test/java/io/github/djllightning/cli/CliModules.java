package io.github.djllightning.cli;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.djl.training.dataset.ArrayDataset;
import ai.djl.training.dataset.Batch;
import io.github.djllightning.data.DataLoader;
import io.github.djllightning.module.LightningDataModule;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.optim.OptimizerConfig;
import io.github.djllightning.optim.Sgd;
import io.github.djllightning.trainer.TrainerFn;
import java.util.List;

/** A small module and data module built from hyperparameters records, for the command-line tests. */
final class CliModules {

    private CliModules() {}

    /** A choice for an enum component. */
    public enum Mode { FAST, CAREFUL }

    /** A module with one component of each kind the command line converts. */
    public static final class Model extends LightningModule {

        /**
         * The hyperparameters.
         *
         * @param hidden units of the layer
         * @param lr the learning rate
         * @param dropout a float
         * @param bias a boolean
         * @param name a string
         * @param mode an enum
         * @param layers a list
         * @param seed a nullable long
         */
        public record HParams(int hidden, double lr, float dropout, boolean bias, String name, Mode mode,
                List<Integer> layers, Long seed) {

            /** The defaults the help shows. */
            public static HParams defaults() {
                return new HParams(16, 0.1, 0.25f, true, "boring", Mode.FAST, List.of(8, 4), null);
            }
        }

        private final HParams hp;

        /** Creates the module. */
        public Model(HParams hp) {
            this.hp = hp;
            saveHyperparameters(hp);
            addChildBlock("layer", Linear.builder().setUnits(hp.hidden()).build());
        }

        /** The hyperparameters it was built with. */
        public HParams hp() {
            return hp;
        }

        @Override
        public Object trainingStep(Batch batch, int batchIdx) {
            NDArray loss = forward("layer", batch.getData().head()).square().mean();
            log("train_loss", loss);
            return loss;
        }

        @Override
        public Object validationStep(Batch batch, int batchIdx) {
            log("val_loss", forward("layer", batch.getData().head()).square().mean());
            return null;
        }

        @Override
        public Object testStep(Batch batch, int batchIdx) {
            log("test_loss", forward("layer", batch.getData().head()).square().mean());
            return null;
        }

        @Override
        public OptimizerConfig configureOptimizers() {
            return OptimizerConfig.of(new Sgd(parameters(), hp.lr()));
        }
    }

    /** A data module of random rows, with a batch size and a row count. */
    public static final class Data extends LightningDataModule {

        /**
         * The hyperparameters.
         *
         * @param batchSize rows per batch
         * @param rows rows per split
         */
        public record HParams(int batchSize, int rows) {

            /** Creates the defaults: 4 rows per batch, 16 rows. */
            public HParams() {
                this(4, 16);
            }
        }

        private final HParams hp;
        private NDManager manager;

        /** Creates the data module. */
        public Data(HParams hp) {
            this.hp = hp;
        }

        /** The hyperparameters it was built with. */
        public HParams hp() {
            return hp;
        }

        @Override
        public void setup(TrainerFn stage) {
            manager = NDManager.newBaseManager();
        }

        @Override
        public void teardown(TrainerFn stage) {
            manager.close();
        }

        private DataLoader loader() {
            NDArray x = manager.randomNormal(new Shape(hp.rows(), 32));
            return DataLoader.of(new ArrayDataset.Builder().setData(x).setSampling(hp.batchSize(), false).build())
                    .batchSize(hp.batchSize()).build();
        }

        @Override
        public DataLoader trainDataloader() {
            return loader();
        }

        @Override
        public DataLoader valDataloader() {
            return loader();
        }

        @Override
        public DataLoader testDataloader() {
            return loader();
        }
    }

    /** A module whose hyperparameters have no defaults. */
    public static final class NoDefaults extends LightningModule {

        /**
         * The hyperparameters.
         *
         * @param width a required int
         */
        public record HParams(int width) {}

        /** Creates the module. */
        public NoDefaults(HParams hp) {
            saveHyperparameters(hp);
        }
    }
}
