package io.github.djllightning.loggers;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Reads TensorBoard event files independently of the writer: checks the TFRecord framing and both CRCs of every
 * record, and decodes the fields the logger writes.
 */
final class EventFileReader {

    /** One decoded event. */
    record Event(double wallTime, long step, String fileVersion, List<Value> values) {}

    /** One decoded {@code Summary.Value}. */
    record Value(String tag, Float simpleValue, Histo histo, boolean hasTensor, String pluginName,
            byte[] pluginContent) {}

    /** A decoded {@code HistogramProto}. */
    record Histo(double min, double max, double num, double sum, double sumSquares, List<Double> limits,
            List<Double> counts) {}

    /** A scalar as written: tag, step, value. */
    record Scalar(String tag, long step, float value) {}

    private EventFileReader() {}

    /** The event files of a folder, in name order (which is creation order within one process). */
    static List<Path> files(Path folder) throws IOException {
        try (Stream<Path> files = Files.list(folder)) {
            return files.filter(p -> p.getFileName().toString().startsWith(TensorBoardLogger.EVENT_FILE_PREFIX))
                    .sorted((a, b) -> Long.compare(counter(a), counter(b)))
                    .toList();
        }
    }

    private static long counter(Path file) {
        String name = file.getFileName().toString();
        return Long.parseLong(name.substring(name.lastIndexOf('.') + 1));
    }

    /** Every event of a file, checking framing and CRCs. */
    static List<Event> read(Path file) throws IOException {
        ByteBuffer buffer = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        List<Event> events = new ArrayList<>();
        while (buffer.hasRemaining()) {
            if (buffer.remaining() < 12) {
                throw new IOException(file + ": truncated header at " + buffer.position());
            }
            byte[] header = new byte[8];
            buffer.get(header);
            int headerCrc = buffer.getInt();
            if (headerCrc != TfRecords.maskedCrc32c(header, 0, 8)) {
                throw new IOException(file + ": bad length CRC at " + (buffer.position() - 12));
            }
            long length = ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN).getLong();
            if (length < 0 || length + 4 > buffer.remaining()) {
                throw new IOException(file + ": record length " + length + " past the end");
            }
            byte[] data = new byte[(int) length];
            buffer.get(data);
            if (buffer.getInt() != TfRecords.maskedCrc32c(data, 0, data.length)) {
                throw new IOException(file + ": bad data CRC at " + (buffer.position() - 4 - length));
            }
            events.add(event(data));
        }
        return events;
    }

    /** The scalars of a list of files, in order. */
    static List<Scalar> scalars(List<Path> files) throws IOException {
        List<Scalar> out = new ArrayList<>();
        for (Path file : files) {
            for (Event event : read(file)) {
                for (Value value : event.values()) {
                    if (value.simpleValue() != null) {
                        out.add(new Scalar(value.tag(), event.step(), value.simpleValue()));
                    }
                }
            }
        }
        return out;
    }

    private static Event event(byte[] data) throws IOException {
        CodedInputStream in = CodedInputStream.newInstance(data);
        double wallTime = 0;
        long step = 0;
        String fileVersion = null;
        List<Value> values = new ArrayList<>();
        for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
            switch (WireFormat.getTagFieldNumber(tag)) {
                case 1 -> wallTime = in.readDouble();
                case 2 -> step = in.readInt64();
                case 3 -> fileVersion = in.readString();
                case 5 -> {
                    CodedInputStream summary = CodedInputStream.newInstance(in.readByteArray());
                    for (int t = summary.readTag(); t != 0; t = summary.readTag()) {
                        if (WireFormat.getTagFieldNumber(t) == 1) {
                            values.add(value(summary.readByteArray()));
                        } else {
                            summary.skipField(t);
                        }
                    }
                }
                default -> in.skipField(tag);
            }
        }
        return new Event(wallTime, step, fileVersion, values);
    }

    private static Value value(byte[] data) throws IOException {
        CodedInputStream in = CodedInputStream.newInstance(data);
        String tag = null;
        Float simple = null;
        Histo histo = null;
        boolean tensor = false;
        String plugin = null;
        byte[] content = null;
        for (int t = in.readTag(); t != 0; t = in.readTag()) {
            switch (WireFormat.getTagFieldNumber(t)) {
                case 1 -> tag = in.readString();
                case 2 -> simple = in.readFloat();
                case 5 -> histo = histo(in.readByteArray());
                case 8 -> {
                    in.readByteArray();
                    tensor = true;
                }
                case 9 -> {
                    Map<Integer, byte[]> metadata = fields(in.readByteArray());
                    Map<Integer, byte[]> pluginData = fields(metadata.get(1));
                    plugin = new String(pluginData.get(1), java.nio.charset.StandardCharsets.UTF_8);
                    content = pluginData.get(2);
                }
                default -> in.skipField(t);
            }
        }
        return new Value(tag, simple, histo, tensor, plugin, content);
    }

    private static Histo histo(byte[] data) throws IOException {
        CodedInputStream in = CodedInputStream.newInstance(data);
        double[] scalars = new double[6];
        List<Double> limits = new ArrayList<>();
        List<Double> counts = new ArrayList<>();
        for (int t = in.readTag(); t != 0; t = in.readTag()) {
            int field = WireFormat.getTagFieldNumber(t);
            if (field >= 1 && field <= 5) {
                scalars[field] = in.readDouble();
            } else if (field == 6 || field == 7) {
                List<Double> target = field == 6 ? limits : counts;
                int limit = in.pushLimit(in.readRawVarint32());
                while (in.getBytesUntilLimit() > 0) {
                    target.add(in.readDouble());
                }
                in.popLimit(limit);
            } else {
                in.skipField(t);
            }
        }
        return new Histo(scalars[1], scalars[2], scalars[3], scalars[4], scalars[5], limits, counts);
    }

    /**
     * The length-delimited fields of a message by number (the last occurrence wins); for decoding nested plugin data.
     */
    static Map<Integer, byte[]> fields(byte[] data) throws IOException {
        Map<Integer, byte[]> out = new LinkedHashMap<>();
        CodedInputStream in = CodedInputStream.newInstance(data);
        for (int t = in.readTag(); t != 0; t = in.readTag()) {
            if (WireFormat.getTagWireType(t) == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                out.put(WireFormat.getTagFieldNumber(t), in.readByteArray());
            } else {
                in.skipField(t);
            }
        }
        return out;
    }

    /** Every length-delimited occurrence of one field, in order (repeated and map fields). */
    static List<byte[]> repeated(byte[] data, int field) throws IOException {
        List<byte[]> out = new ArrayList<>();
        CodedInputStream in = CodedInputStream.newInstance(data);
        for (int t = in.readTag(); t != 0; t = in.readTag()) {
            if (WireFormat.getTagFieldNumber(t) == field
                    && WireFormat.getTagWireType(t) == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                out.add(in.readByteArray());
            } else {
                in.skipField(t);
            }
        }
        return out;
    }

    /** A {@code google.protobuf.Value} as a Java value: Double, String or Boolean. */
    static Object structValue(byte[] data) throws IOException {
        CodedInputStream in = CodedInputStream.newInstance(data);
        Object value = null;
        for (int t = in.readTag(); t != 0; t = in.readTag()) {
            switch (WireFormat.getTagFieldNumber(t)) {
                case 2 -> value = in.readDouble();
                case 3 -> value = in.readString();
                case 4 -> value = in.readBool();
                default -> in.skipField(t);
            }
        }
        return value;
    }

    /** The session start record's hyperparameters, decoded from the plugin content. */
    static Map<String, Object> sessionStartHparams(byte[] pluginContent) throws IOException {
        byte[] start = fields(pluginContent).get(3);
        Map<String, Object> out = new LinkedHashMap<>();
        for (byte[] entry : repeated(start, 1)) {
            CodedInputStream in = CodedInputStream.newInstance(entry);
            String key = null;
            Object value = null;
            for (int t = in.readTag(); t != 0; t = in.readTag()) {
                switch (WireFormat.getTagFieldNumber(t)) {
                    case 1 -> key = in.readString();
                    case 2 -> value = structValue(in.readByteArray());
                    default -> in.skipField(t);
                }
            }
            out.put(key, value);
        }
        return out;
    }

    /** The session end record's status number (1 success, 2 failure). */
    static int sessionEndStatus(byte[] pluginContent) throws IOException {
        CodedInputStream in = CodedInputStream.newInstance(fields(pluginContent).get(4));
        for (int t = in.readTag(); t != 0; t = in.readTag()) {
            if (WireFormat.getTagFieldNumber(t) == 1) {
                return in.readEnum();
            }
            in.skipField(t);
        }
        return 0;
    }
}
