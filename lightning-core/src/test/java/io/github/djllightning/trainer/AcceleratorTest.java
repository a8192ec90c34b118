package io.github.djllightning.trainer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import io.github.djllightning.testing.BoringModule;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AcceleratorTest {

    @TempDir
    Path root;

    @Test
    void cpuRunsTheModuleAndItsBatchesOnTheCpu() {
        Trainer trainer = quiet().accelerator("cpu").build();
        assertThat(trainer.device()).isEqualTo(Device.cpu());
        try (NDManager manager = NDManager.newBaseManager(); BoringModule module = new BoringModule()) {
            trainer.fit(module, BoringModule.data(manager, 2));
            assertThat(module.device()).isEqualTo(Device.cpu());
            assertThat(module.parameters()).allSatisfy(p -> assertThat(p.getArray().getDevice()).isEqualTo(Device.cpu()));
        }
    }

    @Test
    void autoPicksAGpuWhenTheEngineSeesOneAndTheCpuOtherwise() {
        boolean gpu = Engine.getInstance().getGpuCount() > 0;
        assertThat(quiet().build().device()).isEqualTo(gpu ? Device.gpu(0) : Device.cpu());
    }

    @Test
    void gpuWithoutACudaDeviceIsAClearErrorNotAFallback() {
        if (Engine.getInstance().getGpuCount() > 0) {
            assertThat(quiet().accelerator("gpu").build().device()).isEqualTo(Device.gpu(0));
            return;
        }
        assertThatThrownBy(() -> quiet().accelerator("cuda").build())
                .isInstanceOf(MisconfigurationException.class)
                .hasMessageContaining("accelerator 'cuda'")
                .hasMessageContaining("no CUDA device")
                .hasMessageContaining("accelerator(\"cpu\")");
    }

    @Test
    void aModuleWhoseParametersExistCannotMoveToAnotherDevice() {
        try (NDManager manager = NDManager.newBaseManager(); BoringModule module = new BoringModule()) {
            quiet().accelerator("cpu").build().fit(module, BoringModule.data(manager, 1));
            Device other = Device.gpu(0);
            assertThatThrownBy(() -> module.useDevice(other))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("already has parameters on cpu()");
        }
    }

    private TrainerConfig.Builder<Trainer> quiet() {
        return Trainer.builder()
                .defaultRootDir(root)
                .maxEpochs(1)
                .enableProgressBar(false)
                .enableModelSummary(false)
                .enableCheckpointing(false)
                .logger(false);
    }
}
