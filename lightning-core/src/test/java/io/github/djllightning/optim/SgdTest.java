package io.github.djllightning.optim;

import static io.github.djllightning.optim.OptimTestSupport.assertClose;
import static io.github.djllightning.optim.OptimTestSupport.grad;
import static io.github.djllightning.optim.OptimTestSupport.param;
import static io.github.djllightning.optim.OptimTestSupport.quadraticBackward;
import static io.github.djllightning.optim.OptimTestSupport.toDoubles;
import static io.github.djllightning.optim.OptimTestSupport.values;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class SgdTest {

    private static final float[] A = {0.5f, 1.5f, 0.25f, 2f, 1f, 0.75f};
    private static final float[] B = {-1f, 0.5f, 2f, -0.25f, 0.1f, -3f};
    private static final float[] W0 = {0.3f, -1.2f, 2.5f, 0.8f, -0.4f, 1.1f};
    private static final Shape SHAPE = new Shape(2, 3);

    private NDManager manager;

    @BeforeEach
    void setUp() {
        manager = NDManager.newBaseManager();
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    /** torch.optim.SGD's single-tensor update in plain double arithmetic; lr may change between steps. */
    static final class Reference {
        final double momentum;
        final double dampening;
        final double weightDecay;
        final boolean nesterov;
        final boolean maximize;
        final double[] w;
        double[] buffer;

        Reference(double[] w, double momentum, double dampening, double weightDecay, boolean nesterov,
                boolean maximize) {
            this.w = w.clone();
            this.momentum = momentum;
            this.dampening = dampening;
            this.weightDecay = weightDecay;
            this.nesterov = nesterov;
            this.maximize = maximize;
        }

        void step(float[] grad, double lr) {
            double[] d = new double[w.length];
            for (int i = 0; i < w.length; i++) {
                d[i] = (maximize ? -grad[i] : grad[i]) + weightDecay * w[i];
            }
            if (momentum != 0) {
                if (buffer == null) {
                    buffer = d.clone();
                } else {
                    for (int i = 0; i < w.length; i++) {
                        buffer[i] = momentum * buffer[i] + (1 - dampening) * d[i];
                    }
                }
                for (int i = 0; i < w.length; i++) {
                    d[i] = nesterov ? d[i] + momentum * buffer[i] : buffer[i];
                }
            }
            for (int i = 0; i < w.length; i++) {
                w[i] -= lr * d[i];
            }
        }
    }

    private void trainAndCompare(Sgd sgd, Parameter param, Reference reference, double[] lrs) {
        for (int step = 0; step < lrs.length; step++) {
            sgd.setLr(lrs[step]);
            sgd.zeroGrad();
            quadraticBackward(param, A, B);
            reference.step(grad(param), lrs[step]);
            sgd.step();
            assertClose(values(param), reference.w, "step " + (step + 1));
        }
    }

    private static double[] constant(double lr, int steps) {
        double[] lrs = new double[steps];
        Arrays.fill(lrs, lr);
        return lrs;
    }

    @Test
    void plainSgd() {
        Parameter w = param(manager, "w", SHAPE, W0);
        try (Sgd sgd = new Sgd(List.of(w), 0.05)) {
            trainAndCompare(sgd, w, new Reference(toDoubles(W0), 0, 0, 0, false, false), constant(0.05, 20));
            assertThat(sgd.state(w).tensors()).isEmpty();
            assertThat(sgd.stateDict().tensors()).isEmpty();
        }
    }

    @Test
    void plainSgdWithWeightDecayAndMaximize() {
        Parameter w = param(manager, "w", SHAPE, W0);
        try (Sgd sgd = Sgd.builder().lr(0.02).weightDecay(0.3).maximize(true).build(List.of(w))) {
            trainAndCompare(sgd, w, new Reference(toDoubles(W0), 0, 0, 0.3, false, true), constant(0.02, 20));
        }
    }

    @Test
    void momentumStartsFromACopyOfTheGradient() {
        Parameter w = param(manager, "w", SHAPE, W0);
        try (Sgd sgd = Sgd.builder().lr(0.05).momentum(0.9).build(List.of(w))) {
            trainAndCompare(sgd, w, new Reference(toDoubles(W0), 0.9, 0, 0, false, false), constant(0.05, 20));
            assertThat(sgd.state(w).tensors()).containsOnlyKeys("momentum_buffer");
        }
    }

    @Test
    void momentumWithDampeningAndWeightDecay() {
        Parameter w = param(manager, "w", SHAPE, W0);
        try (Sgd sgd = Sgd.builder().lr(0.04).momentum(0.8).dampening(0.3).weightDecay(0.1).build(List.of(w))) {
            trainAndCompare(sgd, w, new Reference(toDoubles(W0), 0.8, 0.3, 0.1, false, false), constant(0.04, 20));
        }
    }

    @Test
    void nesterovWithWeightDecayAndMaximize() {
        Parameter w = param(manager, "w", SHAPE, W0);
        try (Sgd sgd = Sgd.builder().lr(0.03).momentum(0.9).nesterov(true).weightDecay(0.05).maximize(true)
                .build(List.of(w))) {
            trainAndCompare(sgd, w, new Reference(toDoubles(W0), 0.9, 0, 0.05, true, true), constant(0.03, 20));
        }
    }

    @Test
    void changingLrBetweenMomentumStepsTakesEffectAtOnce() {
        // torch keeps lr out of the buffer: w -= lr_t * b_t. A kernel that folds lr into the buffer would carry the
        // old rates in the momentum and drift from this sequence.
        double[] lrs = {0.1, 0.1, 0.01, 0.05, 0.2, 0.001, 0.001, 0.08, 0.03, 0.1, 0.0, 0.02, 0.06, 0.01, 0.04};
        Parameter plain = param(manager, "plain", SHAPE, W0);
        Parameter nesterov = param(manager, "nesterov", SHAPE, W0);
        try (Sgd heavyBall = Sgd.builder().momentum(0.9).build(List.of(plain));
                Sgd withNesterov = Sgd.builder().momentum(0.7).nesterov(true).build(List.of(nesterov))) {
            trainAndCompare(heavyBall, plain, new Reference(toDoubles(W0), 0.9, 0, 0, false, false), lrs);
            trainAndCompare(withNesterov, nesterov, new Reference(toDoubles(W0), 0.7, 0, 0, true, false), lrs);
        }
    }

    @Test
    void badArgumentsAreRejectedWithTheValueAndTheRange() {
        Parameter w = param(manager, "w", SHAPE, W0);
        assertThatThrownBy(() -> Sgd.builder().lr(-1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("SGD lr must be a finite number >= 0, but was -1.0");
        assertThatThrownBy(() -> Sgd.builder().momentum(-0.5))
                .hasMessage("SGD momentum must be a finite number >= 0, but was -0.5");
        assertThatThrownBy(() -> Sgd.builder().weightDecay(-0.1))
                .hasMessage("SGD weight_decay must be a finite number >= 0, but was -0.1");
        assertThatThrownBy(() -> Sgd.builder().nesterov(true).build(List.of(w)))
                .hasMessage("SGD nesterov requires momentum > 0 and dampening == 0, but momentum was 0.0 and "
                        + "dampening 0.0");
        assertThatThrownBy(() -> Sgd.builder().momentum(0.9).dampening(0.1).nesterov(true).build(List.of(w)))
                .hasMessageContaining("but momentum was 0.9 and dampening 0.1");
        assertThatThrownBy(() -> Sgd.builder().build(List.of(new ParamGroup(List.of(w), Map.of("momentum", "high")))))
                .hasMessage("param group option 'momentum' must be a number, but was high (String)");
        assertThatThrownBy(() -> Sgd.builder().build(List.of(new ParamGroup(List.of(w), Map.of("nesterov", 1)))))
                .hasMessage("param group option 'nesterov' must be a boolean, but was 1 (Integer)");
    }
}
