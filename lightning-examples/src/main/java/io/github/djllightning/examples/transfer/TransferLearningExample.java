package io.github.djllightning.examples.transfer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.SequentialBlock;
import ai.djl.training.dataset.Batch;
import ai.djl.training.dataset.Dataset.Usage;
import ai.djl.training.dataset.RandomAccessDataset;
import io.github.djllightning.callbacks.BackboneFinetuning;
import io.github.djllightning.checkpoint.PyTorchWeights;
import io.github.djllightning.data.DataLoader;
import io.github.djllightning.data.Datasets;
import io.github.djllightning.data.MnistDataset;
import io.github.djllightning.examples.Args;
import io.github.djllightning.examples.autoencoder.LitAutoEncoder;
import io.github.djllightning.log.LogOptions;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.module.TorchInit;
import io.github.djllightning.optim.Adam;
import io.github.djllightning.optim.OptimizerConfig;
import io.github.djllightning.trainer.Trainer;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The seed's transfer-learning section, with our own pretrained model since nothing can be downloaded: the encoder of
 * the MNIST autoencoder, trained first, becomes the frozen feature extractor (the "backbone") of a digit classifier
 * whose small head learns on top of its features; from epoch 1 {@link BackboneFinetuning} unfreezes the backbone at a
 * tenth of the head's learning rate. A DJL model-zoo backbone (a ResNet from {@code ai.djl.basicmodelzoo}) plugs in the
 * same way: any {@code Block} as the {@code "backbone"} child.
 *
 * <p>Arguments (optional): {@code --epochs N} (2), {@code --root DIR} (the working directory).
 */
public final class TransferLearningExample {

    private TransferLearningExample() {}

    /** A classifier on top of a pretrained backbone, as the seed's {@code ImagenetTransferLearning}. */
    public static final class TransferClassifier extends LightningModule {
        private final Block backbone;
        private final Block head;

        /**
         * Creates the classifier.
         *
         * @param backbone the pretrained feature extractor (the autoencoder's encoder: 784 to 3 features)
         */
        public TransferClassifier(Block backbone) {
            this.backbone = addChildBlock("backbone", backbone);
            this.head = addChildBlock("head", new SequentialBlock()
                    .add(TorchInit.linear(64, 3))
                    .add(Activation::relu)
                    .add(TorchInit.linear(10, 64)));
        }

        @Override
        public NDList forward(NDList inputs) {
            NDArray features = forward(backbone, inputs.head().reshape(-1, 28 * 28));
            return new NDList(forward(head, features));
        }

        private NDArray[] lossAndAccuracy(Batch batch) {
            NDArray logits = forward(new NDList(batch.getData().head())).head();
            NDArray labels = batch.getLabels().head().toType(DataType.INT64, false).reshape(-1, 1);
            NDArray loss = logits.logSoftmax(1).gather(labels, 1).neg().mean();
            NDArray accuracy = logits.argMax(1).eq(labels.reshape(-1)).toType(DataType.FLOAT32, false).mean();
            return new NDArray[] {loss, accuracy};
        }

        @Override
        public NDArray trainingStep(Batch batch, int batchIdx) {
            NDArray loss = lossAndAccuracy(batch)[0];
            log("train_loss", loss);
            return loss;
        }

        @Override
        public Object validationStep(Batch batch, int batchIdx) {
            log("val_accuracy", lossAndAccuracy(batch)[1], LogOptions.defaults().progBar(true));
            return null;
        }

        @Override
        public OptimizerConfig configureOptimizers() {
            // only the head: BackboneFinetuning adds the backbone when it unfreezes it
            return OptimizerConfig.of(new Adam(head.getParameters().values(), 1e-2));
        }
    }

    /**
     * Runs the example.
     *
     * @param args the arguments above
     * @throws Exception when MNIST cannot be read
     */
    public static void main(String[] args) throws Exception {
        Map<String, String> options = Args.parse(args, List.of("epochs", "root"));
        int epochs = Integer.parseInt(options.getOrDefault("epochs", "2"));
        Path root = Path.of(options.getOrDefault("root", "."));
        try (MnistDataset mnist = MnistDataset.builder().usage(Usage.TRAIN).build()) {
            RandomAccessDataset[] split = Datasets.randomSplit(mnist, new long[] {55_000, 5_000}, 42);
            DataLoader train = DataLoader.of(split[0]).batchSize(64).shuffle(true).build();
            DataLoader val = DataLoader.of(split[1]).batchSize(500).build();

            // 1. "pretrain": the seed's autoencoder, one epoch, its checkpoint written by the default ModelCheckpoint
            Trainer pretraining = Trainer.builder().defaultRootDir(root.resolve("pretrain")).maxEpochs(1).seed(7)
                    .enableProgressBar(false).build();
            try (LitAutoEncoder autoencoder = LitAutoEncoder.create()) {
                pretraining.fit(autoencoder, DataLoader.of(split[0]).batchSize(32).build());
            }
            Path pretrained = Path.of(pretraining.checkpointCallback().bestModelPath());

            // 2. the pretrained encoder becomes the backbone: its weights come from the checkpoint's "encoder." keys
            try (NDManager manager = NDManager.newBaseManager()) {
                // snippet:backbone
                Block encoder = LitAutoEncoder.encoder();
                encoder.initialize(manager, DataType.FLOAT32, new Shape(1, 28 * 28));
                PyTorchWeights.fromCheckpoint(pretrained, "encoder.", encoder);
                // end-snippet:backbone
                float[] before = encoder.getParameters().get(0).getValue().getArray().toFloatArray();

                // 3. train the head with the backbone frozen, then fine-tune the backbone too
                try (TransferClassifier classifier = new TransferClassifier(encoder)) {
                    Trainer trainer = Trainer.builder().defaultRootDir(root.resolve("transfer")).maxEpochs(epochs)
                            .seed(7).callbacks(BackboneFinetuning.builder().unfreezeBackboneAtEpoch(1).build())
                            .build();
                    trainer.fit(classifier, train, val);
                    double accuracy = trainer.callbackMetrics().get("val_accuracy");
                    float[] after = encoder.getParameters().get(0).getValue().getArray().toFloatArray();
                    System.out.printf(Locale.ROOT, "Pretrained backbone from %s%n", pretrained);
                    System.out.printf(Locale.ROOT, "Validation accuracy on 3 autoencoder features: %.4f%n", accuracy);
                    System.out.println("Backbone changed by fine-tuning: " + !java.util.Arrays.equals(before, after));
                    System.out.println("RESULT val_accuracy=" + accuracy);
                }
            }
        }
    }
}
