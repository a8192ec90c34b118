package io.github.djllightning.loggers;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.WireFormat;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * Encodes the few protocol buffer messages of a TensorBoard event file, written field by field so that no generated
 * code is needed. The field numbers are TensorBoard's ({@code tensorboard/compat/proto/event.proto},
 * {@code summary.proto}, {@code tensor.proto}, {@code plugins/hparams/plugin_data.proto} and {@code api.proto}, and
 * {@code google/protobuf/struct.proto}):
 *
 * <pre>
 * Event            wall_time=1 (double), step=2 (int64), file_version=3 (string), summary=5 (Summary)
 * Summary          value=1 (repeated Value)
 * Summary.Value    tag=1 (string), simple_value=2 (float), histo=5 (HistogramProto), tensor=8 (TensorProto),
 *                  metadata=9 (SummaryMetadata)
 * SummaryMetadata  plugin_data=1 (PluginData); PluginData: plugin_name=1 (string), content=2 (bytes)
 * HistogramProto   min=1, max=2, num=3, sum=4, sum_squares=5 (double), bucket_limit=6, bucket=7 (packed double)
 * TensorProto      dtype=1 (enum, DT_FLOAT=1), tensor_shape=2 (TensorShapeProto: dim=2, Dim.size=1)
 * HParamsPluginData version=1 (int32, 0), experiment=2, session_start_info=3, session_end_info=4
 * Experiment       time_created_secs=3 (double), hparam_infos=4, metric_infos=5
 * HParamInfo       name=1 (string), type=4 (enum: STRING=1, BOOL=2, FLOAT64=3), domain_discrete=5 (ListValue)
 * MetricInfo       name=1 (MetricName: group=1, tag=2)
 * SessionStartInfo hparams=1 (map&lt;string, Value&gt;: key=1, value=2), group_name=4, start_time_secs=5 (double)
 * SessionEndInfo   status=1 (enum: SUCCESS=1, FAILURE=2, RUNNING=3), end_time_secs=2 (double)
 * Value (struct)   number_value=2 (double), string_value=3 (string), bool_value=4 (bool)
 * ListValue        values=1 (repeated Value)
 * </pre>
 */
final class EventProtos {

    /** The plugin name TensorBoard's hparams dashboard looks for. */
    static final String HPARAMS_PLUGIN = "hparams";

    /** The summary tag of the experiment record. */
    static final String EXPERIMENT_TAG = "_hparams_/experiment";

    /** The summary tag of the session start record. */
    static final String SESSION_START_TAG = "_hparams_/session_start_info";

    /** The summary tag of the session end record. */
    static final String SESSION_END_TAG = "_hparams_/session_end_info";

    /** The version line of an event file, its first record. */
    static final String FILE_VERSION = "brain.Event:2";

    static final int STATUS_SUCCESS = 1;
    static final int STATUS_FAILURE = 2;

    private static final int DT_FLOAT = 1;
    private static final int TYPE_STRING = 1;
    private static final int TYPE_BOOL = 2;
    private static final int TYPE_FLOAT64 = 3;

    private EventProtos() {}

    /** Writes the fields of one message. */
    private interface Body {
        void write(CodedOutputStream out) throws IOException;
    }

    private static byte[] message(Body body) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
            CodedOutputStream out = CodedOutputStream.newInstance(bytes);
            body.write(out);
            out.flush();
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException("could not encode a TensorBoard record in memory", e);
        }
    }

    /** The first event of every file: {@code Event{wall_time, file_version}}. */
    static byte[] fileVersionEvent(double wallTime) {
        return message(out -> {
            out.writeDouble(1, wallTime);
            out.writeString(3, FILE_VERSION);
        });
    }

    /** {@code Event{wall_time, step, summary{value...}}} around already encoded {@code Summary.Value}s. */
    static byte[] summaryEvent(double wallTime, long step, List<byte[]> values) {
        byte[] summary = message(out -> {
            for (byte[] value : values) {
                out.writeByteArray(1, value);
            }
        });
        return message(out -> {
            out.writeDouble(1, wallTime);
            out.writeInt64(2, step);
            out.writeByteArray(5, summary);
        });
    }

    /** {@code Summary.Value{tag, simple_value}}: a scalar. */
    static byte[] scalarValue(String tag, float value) {
        return message(out -> {
            out.writeString(1, tag);
            out.writeFloat(2, value);
        });
    }

    /**
     * {@code Event{wall_time, step, summary{value{tag, simple_value}}}}: one scalar, the event written most often,
     * encoded straight into one exactly sized array. The same bytes as {@link #summaryEvent} around {@link
     * #scalarValue}, without the intermediate messages and streams, which cost more than the write itself.
     */
    static byte[] scalarEvent(double wallTime, long step, String tag, float value) {
        byte[] tagBytes = tag.getBytes(StandardCharsets.UTF_8);
        int valueSize = 1 + varintSize(tagBytes.length) + tagBytes.length + 1 + 4;
        int summarySize = 1 + varintSize(valueSize) + valueSize;
        byte[] out = new byte[1 + 8 + 1 + varintSize(step) + 1 + varintSize(summarySize) + summarySize];
        int at = 0;
        out[at++] = 1 << 3 | WireFormat.WIRETYPE_FIXED64; // Event.wall_time
        at = putFixed(out, at, Double.doubleToRawLongBits(wallTime), 8);
        out[at++] = 2 << 3 | WireFormat.WIRETYPE_VARINT; // Event.step
        at = putVarint(out, at, step);
        out[at++] = 5 << 3 | WireFormat.WIRETYPE_LENGTH_DELIMITED; // Event.summary
        at = putVarint(out, at, summarySize);
        out[at++] = 1 << 3 | WireFormat.WIRETYPE_LENGTH_DELIMITED; // Summary.value
        at = putVarint(out, at, valueSize);
        out[at++] = 1 << 3 | WireFormat.WIRETYPE_LENGTH_DELIMITED; // Value.tag
        at = putVarint(out, at, tagBytes.length);
        System.arraycopy(tagBytes, 0, out, at, tagBytes.length);
        at += tagBytes.length;
        out[at++] = 2 << 3 | WireFormat.WIRETYPE_FIXED32; // Value.simple_value
        putFixed(out, at, Float.floatToRawIntBits(value), 4);
        return out;
    }

    /** The bytes of a varint; a negative number takes ten, as protobuf writes an int64. */
    private static int varintSize(long value) {
        int size = 1;
        while ((value & ~0x7FL) != 0) {
            value >>>= 7;
            size++;
        }
        return size;
    }

    private static int putVarint(byte[] out, int at, long value) {
        while ((value & ~0x7FL) != 0) {
            out[at++] = (byte) ((value & 0x7F) | 0x80);
            value >>>= 7;
        }
        out[at++] = (byte) value;
        return at;
    }

    /** Little-endian, as protobuf's fixed32/fixed64 (and so float/double) fields are. */
    private static int putFixed(byte[] out, int at, long bits, int bytes) {
        for (int i = 0; i < bytes; i++) {
            out[at++] = (byte) (bits >>> (8 * i));
        }
        return at;
    }

    /** {@code Summary.Value{tag, histo}}: a histogram. */
    static byte[] histogramValue(String tag, Histogram histogram) {
        byte[] histo = message(out -> {
            out.writeDouble(1, histogram.min());
            out.writeDouble(2, histogram.max());
            out.writeDouble(3, histogram.count());
            out.writeDouble(4, histogram.sum());
            out.writeDouble(5, histogram.sumSquares());
            writePackedDoubles(out, 6, histogram.bucketLimits());
            writePackedDoubles(out, 7, histogram.bucketCounts());
        });
        return message(out -> {
            out.writeString(1, tag);
            out.writeByteArray(5, histo);
        });
    }

    private static void writePackedDoubles(CodedOutputStream out, int field, double[] values) throws IOException {
        out.writeTag(field, WireFormat.WIRETYPE_LENGTH_DELIMITED);
        out.writeUInt32NoTag(values.length * 8);
        for (double value : values) {
            out.writeDoubleNoTag(value);
        }
    }

    /**
     * The experiment record of the hparams plugin: one {@code HParamInfo} per hyperparameter (with its type, and the
     * value as its discrete domain for strings and booleans) and one {@code MetricInfo} per metric.
     */
    static byte[] experimentValue(Map<String, Object> hparams, List<String> metrics, double wallTime) {
        byte[] experiment = message(out -> {
            out.writeDouble(3, wallTime);
            for (Map.Entry<String, Object> entry : hparams.entrySet()) {
                out.writeByteArray(4, hparamInfo(entry.getKey(), entry.getValue()));
            }
            for (String metric : metrics) {
                byte[] name = message(inner -> inner.writeString(2, metric));
                out.writeByteArray(5, message(inner -> inner.writeByteArray(1, name)));
            }
        });
        return hparamsValue(EXPERIMENT_TAG, 2, experiment);
    }

    private static byte[] hparamInfo(String name, Object value) {
        return message(out -> {
            out.writeString(1, name);
            if (value instanceof Boolean) {
                out.writeEnum(4, TYPE_BOOL);
                byte[] domain = message(list -> {
                    list.writeByteArray(1, structValue(Boolean.TRUE));
                    list.writeByteArray(1, structValue(Boolean.FALSE));
                });
                out.writeByteArray(5, domain);
            } else if (value instanceof Number) {
                out.writeEnum(4, TYPE_FLOAT64);
            } else {
                out.writeEnum(4, TYPE_STRING);
                out.writeByteArray(5, message(list -> list.writeByteArray(1, structValue(value))));
            }
        });
    }

    /** The session start record: the run's hyperparameters as a map of {@code google.protobuf.Value}s. */
    static byte[] sessionStartValue(Map<String, Object> hparams, double wallTime) {
        byte[] start = message(out -> {
            for (Map.Entry<String, Object> entry : hparams.entrySet()) {
                byte[] mapEntry = message(inner -> {
                    inner.writeString(1, entry.getKey());
                    inner.writeByteArray(2, structValue(entry.getValue()));
                });
                out.writeByteArray(1, mapEntry);
            }
            out.writeString(4, "");
            out.writeDouble(5, wallTime);
        });
        return hparamsValue(SESSION_START_TAG, 3, start);
    }

    /** The session end record. */
    static byte[] sessionEndValue(int status, double wallTime) {
        byte[] end = message(out -> {
            out.writeEnum(1, status);
            out.writeDouble(2, wallTime);
        });
        return hparamsValue(SESSION_END_TAG, 4, end);
    }

    /** A number, boolean or string as a {@code google.protobuf.Value}. */
    private static byte[] structValue(Object value) {
        return message(out -> {
            if (value instanceof Boolean) {
                out.writeBool(4, (Boolean) value);
            } else if (value instanceof Number) {
                out.writeDouble(2, ((Number) value).doubleValue());
            } else {
                out.writeString(3, String.valueOf(value));
            }
        });
    }

    /**
     * A {@code Summary.Value} carrying hparams plugin data in its metadata, with the empty float tensor that
     * TensorBoard's own hparams summaries carry, so that readers that index values by their tensor find it.
     */
    private static byte[] hparamsValue(String tag, int dataField, byte[] data) {
        byte[] content = message(out -> {
            out.writeInt32(1, 0);
            out.writeByteArray(dataField, data);
        });
        byte[] pluginData = message(out -> {
            out.writeString(1, HPARAMS_PLUGIN);
            out.writeByteArray(2, content);
        });
        byte[] metadata = message(out -> out.writeByteArray(1, pluginData));
        byte[] emptyTensor = message(out -> {
            out.writeEnum(1, DT_FLOAT);
            out.writeByteArray(2, message(shape -> shape.writeByteArray(2, new byte[0])));
        });
        return message(out -> {
            out.writeString(1, tag);
            out.writeByteArray(8, emptyTensor);
            out.writeByteArray(9, metadata);
        });
    }
}
