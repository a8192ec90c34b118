package io.github.djllightning.loggers;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One TensorBoard event file, {@code events.out.tfevents.<seconds>.<host>.<pid>.<n>}: created new (never truncating
 * or reopening an existing file), starting with the file-version event, then one framed record per event.
 */
final class EventFileWriter implements AutoCloseable {

    private static final AtomicInteger FILE_COUNTER = new AtomicInteger();
    private static final String HOST = hostName();

    private final Path file;
    private final FileChannel channel;
    private final OutputStream out;

    private EventFileWriter(Path file, FileChannel channel) {
        this.file = file;
        this.channel = channel;
        this.out = new BufferedOutputStream(Channels.newOutputStream(channel), 64 * 1024);
    }

    /** Creates a new event file in the folder (created if needed) and writes its first event. */
    static EventFileWriter create(Path folder) throws IOException {
        Files.createDirectories(folder);
        long pid = ProcessHandle.current().pid();
        while (true) {
            long seconds = System.currentTimeMillis() / 1000;
            String name = "events.out.tfevents." + seconds + "." + HOST + "." + pid + "."
                    + FILE_COUNTER.getAndIncrement();
            Path file = folder.resolve(name);
            try {
                FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
                EventFileWriter writer = new EventFileWriter(file, channel);
                writer.write(EventProtos.fileVersionEvent(System.currentTimeMillis() / 1000.0));
                return writer;
            } catch (FileAlreadyExistsException e) {
                // another process with the same id wrote in this folder in the same second; take the next number
            }
        }
    }

    /** The file. */
    Path file() {
        return file;
    }

    /** Appends one event (buffered). */
    void write(byte[] event) throws IOException {
        TfRecords.write(out, event);
    }

    /** Hands what is buffered to the operating system. */
    void flush() throws IOException {
        out.flush();
    }

    /** Flushes, forces the file to the disk and closes it. */
    @Override
    public void close() throws IOException {
        try {
            out.flush();
            channel.force(false);
        } finally {
            out.close();
        }
    }

    private static String hostName() {
        String name = System.getenv("HOSTNAME");
        if (name == null || name.isBlank()) {
            try {
                name = InetAddress.getLocalHost().getHostName();
            } catch (IOException e) {
                name = "localhost";
            }
        }
        return name.replaceAll("[^A-Za-z0-9._-]", "_");
    }
}
