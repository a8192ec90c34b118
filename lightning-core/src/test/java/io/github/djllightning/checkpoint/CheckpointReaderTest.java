package io.github.djllightning.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.github.djllightning.testing.EngineTest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointReaderTest extends EngineTest {

    @TempDir
    Path dir;

    private static final String GOOD_JSON = "{\"format_version\": 1, \"epoch\": 2, \"global_step\": 7}";

    private Checkpoint sample() {
        Checkpoint checkpoint = new Checkpoint();
        checkpoint.entries().put("format_version", Checkpoints.FORMAT_VERSION);
        checkpoint.entries().put("epoch", 2);
        checkpoint.entries().put("global_step", 7L);
        checkpoint.entries().put("nested", Map.of("score", Double.NaN, "name", "NaN", "low", Double.NEGATIVE_INFINITY));
        checkpoint.tensors("state_dict").put("encoder.0.weight", manager.arange(6f).reshape(2, 3));
        checkpoint.tensors("state_dict").put("encoder.0.bias", manager.create(new long[] {1, -2}));
        checkpoint.tensors("optimizer_states").put("0.state.0.exp_avg", manager.ones(new Shape(3)));
        return checkpoint;
    }

    @Test
    void roundTripKeepsEntriesTensorsDtypesAndShapes() {
        Path file = dir.resolve("a.ckpt");
        CheckpointWriter.write(sample(), file);
        try (NDManager scope = manager.newSubManager()) {
            Checkpoint read = CheckpointReader.read(file, scope);
            assertThat(read.source()).isEqualTo(file);
            assertThat(read.entries()).containsEntry("epoch", 2L).containsEntry("global_step", 7L);
            Map<?, ?> nested = (Map<?, ?>) read.entries().get("nested");
            assertThat(nested.get("score")).isEqualTo(Double.NaN);
            assertThat(nested.get("low")).isEqualTo(Double.NEGATIVE_INFINITY);
            assertThat(nested.get("name")).as("a string that reads NaN stays a string").isEqualTo("NaN");
            NDArray weight = read.tensors("state_dict").get("encoder.0.weight");
            assertThat(weight.getShape()).isEqualTo(new Shape(2, 3));
            assertThat(weight.toFloatArray()).containsExactly(0f, 1f, 2f, 3f, 4f, 5f);
            assertThat(read.tensors("state_dict").get("encoder.0.bias").toLongArray()).containsExactly(1L, -2L);
            assertThat(read.tensors("optimizer_states")).containsOnlyKeys("0.state.0.exp_avg");
        }
    }

    @Test
    void missingFileNamesTheFile() {
        Path file = dir.resolve("nope.ckpt");
        assertThatThrownBy(() -> CheckpointReader.readEntries(file))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining(file.toAbsolutePath().toString())
                .hasMessageContaining("no such file");
    }

    @Test
    void truncatedFileIsRefusedAsCorrupt() throws IOException {
        Path file = dir.resolve("a.ckpt");
        CheckpointWriter.write(sample(), file);
        byte[] bytes = Files.readAllBytes(file);
        for (int cut : new int[] {0, 10, bytes.length / 2, bytes.length - 1}) {
            Path truncated = dir.resolve("cut" + cut + ".ckpt");
            Files.write(truncated, Arrays.copyOf(bytes, cut));
            assertThatThrownBy(() -> CheckpointReader.readEntries(truncated))
                    .as("cut at %d", cut)
                    .isInstanceOf(CheckpointException.class)
                    .hasMessageContaining(truncated.toAbsolutePath().toString());
        }
    }

    @Test
    void flippedPayloadByteIsCaughtByTheArchiveChecksum() throws IOException {
        Path file = dir.resolve("a.ckpt");
        CheckpointWriter.write(sample(), file);
        byte[] bytes = Files.readAllBytes(file);
        // a byte of the weight values themselves: 5.0f, the last element of encoder.0.weight, little-endian
        int at = indexOf(bytes, new byte[] {0, 0, (byte) 0xA0, 0x40}) + 3;
        assertThat(at).isGreaterThan(3);
        bytes[at] ^= 0x55;
        Files.write(file, bytes);
        assertThatThrownBy(() -> CheckpointReader.readEntries(file)).isInstanceOf(CheckpointException.class);
    }

    @Test
    void entriesOutsideTheAllowedNamesAreRefused() throws IOException {
        for (String bad : new String[] {"../evil.safetensors", "Payload.class", "sub/state_dict.safetensors"}) {
            Path file = zip(Map.of("checkpoint.json", bytes(GOOD_JSON), bad, new byte[] {1}));
            assertThatThrownBy(() -> CheckpointReader.readEntries(file))
                    .isInstanceOf(CheckpointException.class)
                    .satisfies(e -> assertThat(((CheckpointException) e).field()).isEqualTo(bad))
                    .hasMessageContaining("unexpected entry");
        }
    }

    @Test
    void badJsonAndBadFieldsNameTheField() throws IOException {
        Path broken = zip(Map.of("checkpoint.json", bytes("{\"epoch\": 1,"), "state_dict.safetensors", empty()));
        assertThatThrownBy(() -> CheckpointReader.readEntries(broken))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining("checkpoint.json")
                .hasMessageContaining("not valid JSON");
        Path array = zip(Map.of("checkpoint.json", bytes("[1, 2]"), "state_dict.safetensors", empty()));
        assertThatThrownBy(() -> CheckpointReader.readEntries(array)).hasMessageContaining("must be a JSON object");
        Path step = zip(Map.of("checkpoint.json",
                bytes("{\"format_version\": 1, \"epoch\": 0, \"global_step\": \"ten\"}"),
                "state_dict.safetensors", empty()));
        assertThatThrownBy(() -> CheckpointReader.readEntries(step))
                .satisfies(e -> assertThat(((CheckpointException) e).field()).endsWith("global_step"))
                .hasMessageContaining("ten");
        Path loops = zip(Map.of("checkpoint.json",
                bytes("{\"format_version\": 1, \"epoch\": 0, \"global_step\": 0, \"loops\": 3}"),
                "state_dict.safetensors", empty()));
        assertThatThrownBy(() -> CheckpointReader.readEntries(loops)).hasMessageContaining("loops");
        Path noJson = zip(Map.of("state_dict.safetensors", empty()));
        assertThatThrownBy(() -> CheckpointReader.readEntries(noJson)).hasMessageContaining("checkpoint.json");
        Path noWeights = zip(Map.of("checkpoint.json", bytes(GOOD_JSON)));
        assertThatThrownBy(() -> CheckpointReader.readEntries(noWeights)).hasMessageContaining("no weights");
    }

    @Test
    void newerFormatIsRefusedWithUpgradeAdvice() throws IOException {
        Path file = zip(Map.of("checkpoint.json",
                bytes("{\"format_version\": 99, \"library_version\": \"9.0.0\", \"epoch\": 0, \"global_step\": 0}"),
                "state_dict.safetensors", empty()));
        assertThatThrownBy(() -> CheckpointReader.readEntries(file))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining("format 99")
                .hasMessageContaining("9.0.0")
                .hasMessageContaining("upgrade");
    }

    @Test
    void safetensorsHeaderOutOfBoundsIsRefused() throws IOException {
        byte[] huge = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(1L << 40).array();
        Path file = zip(Map.of("checkpoint.json", bytes(GOOD_JSON), "state_dict.safetensors", huge));
        assertThatThrownBy(() -> CheckpointReader.readEntries(file))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining("state_dict.safetensors")
                .hasMessageContaining("out of bounds");
        Path offsets = zip(Map.of("checkpoint.json", bytes(GOOD_JSON), "state_dict.safetensors",
                safetensors("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,800]}}", 8)));
        assertThatThrownBy(() -> CheckpointReader.readEntries(offsets))
                .hasMessageContaining("state_dict.safetensors: w")
                .hasMessageContaining("out of bounds");
        Path size = zip(Map.of("checkpoint.json", bytes(GOOD_JSON), "state_dict.safetensors",
                safetensors("{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8)));
        assertThatThrownBy(() -> CheckpointReader.readEntries(size)).hasMessageContaining("needs 12");
    }

    @Test
    void gapsOverlapsAndTrailingBytesInTheDataSectionAreRefused() throws IOException {
        Path gap = zip(Map.of("checkpoint.json", bytes(GOOD_JSON), "state_dict.safetensors",
                safetensors("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8)));
        assertThatThrownBy(() -> CheckpointReader.readEntries(gap)).hasMessageContaining("belong to no tensor");
        Path overlap = zip(Map.of("checkpoint.json", bytes(GOOD_JSON), "state_dict.safetensors",
                safetensors("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                        + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8)));
        assertThatThrownBy(() -> CheckpointReader.readEntries(overlap)).hasMessageContaining("overlap");
        Path trailing = zip(Map.of("checkpoint.json", bytes(GOOD_JSON), "state_dict.safetensors",
                safetensors("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 8)));
        assertThatThrownBy(() -> CheckpointReader.readEntries(trailing)).hasMessageContaining("tensors use 4");
    }

    @Test
    void anEntryThatExpandsBeyondTheFileIsRefusedWithoutReadingIt() throws IOException {
        // a deflated entry of zeros: tiny in the archive, huge when read
        Path bomb = Files.createTempFile(dir, "bomb", ".ckpt");
        try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(bomb))) {
            zip.putNextEntry(new ZipEntry("checkpoint.json"));
            zip.write(bytes(GOOD_JSON));
            zip.closeEntry();
            zip.putNextEntry(new ZipEntry("state_dict.safetensors"));
            byte[] zeros = new byte[1 << 20];
            for (int i = 0; i < 64; i++) {
                zip.write(zeros);
            }
            zip.closeEntry();
        }
        assertThat(Files.size(bomb)).isLessThan(1 << 20);
        assertThatThrownBy(() -> CheckpointReader.readEntries(bomb))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining("state_dict.safetensors")
                .hasMessageContaining("more than the whole file");
    }

    @Test
    void numbersTooLargeForTheirFieldAreCheckpointErrors() throws IOException {
        Path file = zip(Map.of("checkpoint.json", bytes(GOOD_JSON), "state_dict.safetensors",
                safetensors("{\"a\":{\"dtype\":\"F32\",\"shape\":[1e10000],\"data_offsets\":[0,4]}}", 4)));
        assertThatThrownBy(() -> CheckpointReader.readEntries(file))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining("not an integer");
    }

    @Test
    void unknownAndUnsupportedDtypesAreRefusedBeforeAnyTensorExists() throws IOException {
        Path unknown = zip(Map.of("checkpoint.json", bytes(GOOD_JSON), "state_dict.safetensors",
                safetensors("{\"w\":{\"dtype\":\"Q4\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8)));
        assertThatThrownBy(() -> CheckpointReader.readEntries(unknown))
                .satisfies(e -> assertThat(((CheckpointException) e).field()).isEqualTo("state_dict.safetensors: w"
                        + ".dtype"))
                .hasMessageContaining("unknown dtype 'Q4'");
        Path bf16 = zip(Map.of("checkpoint.json", bytes(GOOD_JSON), "state_dict.safetensors",
                safetensors("{\"w\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4)));
        assertThatThrownBy(() -> CheckpointReader.readEntries(bf16)).hasMessageContaining("BF16 is not supported");
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] empty() {
        return safetensors("{}", 0);
    }

    private static byte[] safetensors(String header, int payload) {
        byte[] json = bytes(header);
        ByteBuffer out = ByteBuffer.allocate(8 + json.length + payload).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(json.length).put(json);
        return out.array();
    }

    private Path zip(Map<String, byte[]> entries) throws IOException {
        Path file = Files.createTempFile(dir, "crafted", ".ckpt");
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(buffer)) {
            for (Map.Entry<String, byte[]> entry : new LinkedHashMap<>(entries).entrySet()) {
                zip.putNextEntry(new ZipEntry(entry.getKey()));
                zip.write(entry.getValue());
                zip.closeEntry();
            }
        }
        try (OutputStream out = Files.newOutputStream(file)) {
            buffer.writeTo(out);
        }
        return file;
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new AssertionError("not found");
    }
}
