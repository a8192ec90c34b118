package io.github.djllightning.trainer;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * Turns SIGTERM and SIGINT into a graceful stop while a fit runs: the handler only sets a flag on the running
 * Trainers; each one saves a checkpoint at its next batch boundary and stops. The previous handlers come back when
 * the last fit ends. A second SIGINT while a stop is pending goes to the previous handler (so Ctrl-C twice ends the
 * process at once).
 */
final class SignalConnector implements AutoCloseable {

    private static final org.slf4j.Logger LOG = LoggerFactory.getLogger(SignalConnector.class);
    /** The system property that switches the signal handling off when {@code false}. */
    static final String PROPERTY = "djl.lightning.handleSignals";

    private static final String[] SIGNALS = {"TERM", "INT"};
    private static final Set<Trainer> ACTIVE = ConcurrentHashMap.newKeySet();
    private static final Map<String, SignalHandler> PREVIOUS = new LinkedHashMap<>();

    private final Trainer trainer;

    private SignalConnector(Trainer trainer) {
        this.trainer = trainer;
    }

    /**
     * Starts handling the signals for a fit run on the JVM's main thread (a fit on another thread, as in a service,
     * leaves the process's signal handling alone, as Lightning does), unless the system property {@value
     * #PROPERTY} is {@code false}.
     */
    static synchronized SignalConnector register(Trainer trainer) {
        boolean wanted = !"false".equalsIgnoreCase(System.getProperty(PROPERTY))
                && "main".equals(Thread.currentThread().getName());
        if (!wanted) {
            return new SignalConnector(null);
        }
        if (ACTIVE.isEmpty()) {
            for (String name : SIGNALS) {
                try {
                    Signal signal = new Signal(name);
                    PREVIOUS.put(name, Signal.handle(signal, SignalConnector::received));
                } catch (IllegalArgumentException | UnsupportedOperationException e) {
                    LOG.debug("SIG{} cannot be handled here ({}); it will not stop training gracefully.", name,
                            e.getMessage());
                }
            }
        }
        ACTIVE.add(trainer);
        return new SignalConnector(trainer);
    }

    private static void received(Signal signal) {
        String name = signal.getName();
        boolean pending = false;
        for (Trainer trainer : ACTIVE) {
            pending |= trainer.interruptPending();
        }
        if (pending && "INT".equals(name)) {
            SignalHandler previous = PREVIOUS.get(name);
            if (previous != null && previous != SignalHandler.SIG_IGN && previous != SignalHandler.SIG_DFL) {
                previous.handle(signal);
                return;
            }
        }
        LOG.warn("Received SIG{}: saving a checkpoint at the next batch boundary, then stopping.", name);
        for (Trainer trainer : ACTIVE) {
            trainer.interruptBySignal(name);
        }
    }

    /**
     * Sends a signal that arrived too late to stop the fit (after its last batch) to the previous handler, so the
     * process still ends as asked once the fit has finished.
     *
     * @param name the signal, {@code TERM} or {@code INT}
     */
    static void redeliver(String name) {
        if (!"TERM".equals(name) && !"INT".equals(name)) {
            return;
        }
        LOG.warn("SIG{} arrived after the last training batch; the fit finished and the signal is passed on.", name);
        Signal.raise(new Signal(name));
    }

    @Override
    public void close() {
        if (trainer == null) {
            return;
        }
        synchronized (SignalConnector.class) {
            ACTIVE.remove(trainer);
            if (ACTIVE.isEmpty()) {
                for (Map.Entry<String, SignalHandler> entry : PREVIOUS.entrySet()) {
                    try {
                        Signal.handle(new Signal(entry.getKey()), entry.getValue());
                    } catch (IllegalArgumentException e) {
                        LOG.debug("Could not restore the SIG{} handler: {}", entry.getKey(), e.getMessage());
                    }
                }
                PREVIOUS.clear();
            }
        }
    }
}
