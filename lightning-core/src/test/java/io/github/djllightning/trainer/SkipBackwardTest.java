package io.github.djllightning.trainer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.training.dataset.Batch;
import io.github.djllightning.callback.Callback;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.testing.BoringModule;
import io.github.djllightning.testing.EngineTest;
import io.github.djllightning.testing.Event;
import io.github.djllightning.testing.RecordingCallback;
import io.github.djllightning.testing.RecordingModule;
import io.github.djllightning.testing.TestTrainers;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link Trainer#skipBackward()}: what a hook cancels with it, and where it may be called. */
class SkipBackwardTest extends EngineTest {

    @TempDir
    Path root;

    /** Cancels the backward pass of chosen batches, and notes the weights the first time it is asked. */
    private static final class SkipSome implements Callback {
        private final Set<Integer> skip;
        private int batchIdx;
        private List<float[]> firstSeen;

        SkipSome(Integer... skip) {
            this.skip = Set.of(skip);
        }

        @Override
        public void onTrainBatchStart(Trainer trainer, LightningModule module, Batch batch, int batchIdx) {
            this.batchIdx = batchIdx;
        }

        @Override
        public void onBeforeBackward(Trainer trainer, LightningModule module, NDArray loss) {
            if (firstSeen == null) {
                firstSeen = TestTrainers.weights(module);
            }
            if (skip.contains(batchIdx)) {
                trainer.skipBackward();
            }
        }
    }

    @Test
    void theBeforeHooksStillFireAndTheBackwardAndAfterHooksDoNot() {
        List<Event> events = new ArrayList<>();
        Trainer trainer = TestTrainers.quiet(root).maxEpochs(1)
                .callbacks(new SkipSome(1), new RecordingCallback(events)).build();
        try (RecordingModule module = new RecordingModule(events)) {
            trainer.fit(module, BoringModule.data(manager, 2));
        }
        List<String> batch0 = batchEvents(events, 0);
        List<String> batch1 = batchEvents(events, 1);

        assertThat(batch0).contains("on_before_backward", "module:on_before_backward", "module:backward",
                "on_after_backward", "module:on_after_backward", "on_before_optimizer_step");
        assertThat(batch1).contains("on_before_backward", "module:on_before_backward", "on_before_optimizer_step")
                .doesNotContain("module:backward", "on_after_backward", "module:on_after_backward");
        // as for a trainingStep that returns null, the batch counts as a step
        assertThat(trainer.globalStep()).isEqualTo(2);
    }

    /** The event names from a batch's on_train_batch_start to its on_train_batch_end (callback events). */
    private static List<String> batchEvents(List<Event> events, int batchIdx) {
        int start = -1;
        for (int i = 0; i < events.size(); i++) {
            Event e = events.get(i);
            if (start < 0 && e.event().equals("on_train_batch_start") && Integer.valueOf(batchIdx).equals(e.batchIdx())) {
                start = i;
            } else if (start >= 0 && e.event().equals("on_train_batch_end")) {
                return events.subList(start, i + 1).stream().map(Event::event).toList();
            }
        }
        throw new AssertionError("no batch " + batchIdx + " in " + events);
    }

    @Test
    void withEveryBackwardSkippedTheOptimizerNeverSteps() {
        SkipSome skipAll = new SkipSome(0, 1, 2);
        SkipSome skipNone = new SkipSome();
        try (BoringModule skipped = new BoringModule(); BoringModule trained = new BoringModule()) {
            TestTrainers.quiet(root).maxEpochs(1).callbacks(skipAll).build()
                    .fit(skipped, BoringModule.data(manager, 3));
            TestTrainers.quiet(root).maxEpochs(1).callbacks(skipNone).build()
                    .fit(trained, BoringModule.data(manager, 3));

            assertThat(TestTrainers.sameWeights(TestTrainers.weights(skipped), skipAll.firstSeen)).isTrue();
            assertThat(TestTrainers.sameWeights(TestTrainers.weights(trained), skipNone.firstSeen)).isFalse();
        }
    }

    @Test
    void itIsAnErrorOutsideOfOnBeforeBackward() {
        Callback tooEarly = new Callback() {
            @Override
            public void onTrainBatchStart(Trainer trainer, LightningModule module, Batch batch, int batchIdx) {
                trainer.skipBackward();
            }
        };
        Trainer trainer = TestTrainers.quiet(root).maxEpochs(1).callbacks(tooEarly).build();
        try (BoringModule module = new BoringModule()) {
            assertThatThrownBy(() -> trainer.fit(module, BoringModule.data(manager, 1)))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("call it from an onBeforeBackward hook");
        }
        assertThatThrownBy(trainer::skipBackward)
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("while the Trainer runs");
    }
}
