package io.github.djllightning.testing;

import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** Base of the tests that need arrays: one engine manager per test class, closed after its last test. */
public abstract class EngineTest {

    /** The manager that owns the test data of the class. */
    protected static NDManager manager;

    @BeforeAll
    static void createManager() {
        manager = NDManager.newBaseManager();
    }

    @AfterAll
    static void closeManager() {
        manager.close();
    }
}
