package io.github.djllightning.loggers;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class EventProtosTest {

    /**
     * The scalar event, written by hand for speed, must be byte for byte what protobuf's own encoder writes for the
     * same message: steps across varint lengths (and a negative one, ten bytes), tags of several lengths and
     * non-ASCII characters, and the float values TensorBoard must show as such (NaN, infinities, -0).
     */
    @Test
    void scalarEventIsProtobufsEncoding() {
        long[] steps = {0, 1, 127, 128, 16_383, 16_384, 1L << 35, Long.MAX_VALUE, -1};
        String[] tags = {"", "train_loss", "val/loss_epoch", "größe-λ", "x".repeat(200)};
        float[] values = {0f, -0f, 1.5f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 3e-39f};
        double wallTime = 1_764_000_000.123_456;
        for (long step : steps) {
            for (String tag : tags) {
                for (float value : values) {
                    byte[] expected = EventProtos.summaryEvent(wallTime, step,
                            List.of(EventProtos.scalarValue(tag, value)));
                    assertThat(EventProtos.scalarEvent(wallTime, step, tag, value))
                            .as("step %d, tag '%s', value %s", step, tag, value)
                            .isEqualTo(expected);
                }
            }
        }
    }
}
