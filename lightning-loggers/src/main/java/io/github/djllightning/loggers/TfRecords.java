package io.github.djllightning.loggers;

import java.io.IOException;
import java.io.OutputStream;
import java.util.zip.CRC32C;

/**
 * TFRecord framing, the container of TensorBoard event files. Each record is: the data length as a little-endian
 * uint64, the masked CRC32C of those 8 bytes (little-endian uint32), the data, and the masked CRC32C of the data.
 */
final class TfRecords {

    private static final int MASK_DELTA = 0xa282ead8;

    private TfRecords() {}

    /**
     * The CRC32C (Castagnoli) of the bytes, masked as TFRecord does: rotated right by 15 bits plus a constant, so that
     * a CRC of data that itself holds CRCs does not degenerate.
     */
    static int maskedCrc32c(byte[] data, int offset, int length) {
        CRC32C crc = new CRC32C();
        crc.update(data, offset, length);
        int value = (int) crc.getValue();
        return ((value >>> 15) | (value << 17)) + MASK_DELTA;
    }

    /** Writes one framed record, in one write. */
    static void write(OutputStream out, byte[] data) throws IOException {
        byte[] record = new byte[12 + data.length + 4];
        putLittleEndian(record, 0, data.length, 8);
        putLittleEndian(record, 8, maskedCrc32c(record, 0, 8) & 0xffffffffL, 4);
        System.arraycopy(data, 0, record, 12, data.length);
        putLittleEndian(record, 12 + data.length, maskedCrc32c(data, 0, data.length) & 0xffffffffL, 4);
        out.write(record);
    }

    static void putLittleEndian(byte[] target, int offset, long value, int bytes) {
        for (int i = 0; i < bytes; i++) {
            target[offset + i] = (byte) (value >>> (8 * i));
        }
    }
}
