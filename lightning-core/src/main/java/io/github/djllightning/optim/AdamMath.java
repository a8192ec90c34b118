package io.github.djllightning.optim;

import static io.github.djllightning.optim.ParamGroup.AMSGRAD;
import static io.github.djllightning.optim.ParamGroup.BETAS;
import static io.github.djllightning.optim.ParamGroup.EPS;
import static io.github.djllightning.optim.ParamGroup.LR;
import static io.github.djllightning.optim.ParamGroup.MAXIMIZE;
import static io.github.djllightning.optim.ParamGroup.WEIGHT_DECAY;

import ai.djl.ndarray.NDArray;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import java.util.List;

/** The update and the option checks that {@link Adam} and {@link AdamW} share; they differ only in weight decay. */
final class AdamMath {

    static final String EXP_AVG = "exp_avg";
    static final String EXP_AVG_SQ = "exp_avg_sq";
    static final String MAX_EXP_AVG_SQ = "max_exp_avg_sq";

    /** The fused kernel treats a negative clip value as "no clipping". */
    private static final float NO_CLIP = -1f;

    private AdamMath() {}

    static void validate(String owner, ParamGroup group) {
        Checks.nonNegative(owner, LR, group.getDouble(LR));
        Checks.nonNegative(owner, EPS, group.getDouble(EPS));
        Checks.unitInterval(owner, "betas[0]", group.getDouble(BETAS, 0));
        Checks.unitInterval(owner, "betas[1]", group.getDouble(BETAS, 1));
        Checks.nonNegative(owner, WEIGHT_DECAY, group.getDouble(WEIGHT_DECAY));
        group.getBoolean(AMSGRAD);
        group.getBoolean(MAXIMIZE);
    }

    /**
     * One step for a whole group with the engine's fused kernel (torch's {@code fused=True} Adam), when it is
     * available and can take the group: no AMSGrad, betas below 1, every parameter at the same step count, float32
     * contiguous tensors on the CPU.
     *
     * @return whether the group was updated; false leaves everything untouched for the per-parameter path
     */
    static boolean updateGroup(ParamGroup group, List<ParamState> states, List<NDArray> weights,
            List<NDArray> grads, boolean decoupled) {
        if (!FusedAdamKernel.isAvailable() || group.getBoolean(AMSGRAD)) {
            return false;
        }
        double beta1 = group.getDouble(BETAS, 0);
        double beta2 = group.getDouble(BETAS, 1);
        if ((float) beta1 == 1f || (float) beta2 == 1f) {
            return false;
        }
        long previous = states.get(0).step();
        for (int i = 1; i < states.size(); i++) {
            if (states.get(i).step() != previous) {
                return false;
            }
        }
        if (previous + 1 > FusedAdamKernel.MAX_EXACT_STEP) {
            return false;
        }
        for (int i = 0; i < states.size(); i++) {
            states.get(i).zerosLike(EXP_AVG, weights.get(i));
            states.get(i).zerosLike(EXP_AVG_SQ, weights.get(i));
        }
        if (!FusedAdamKernel.accepts(weights, grads, states)) {
            return false;
        }
        for (int i = 0; i < states.size(); i++) {
            states.get(i).incrementStep();
        }
        FusedAdamKernel.run(weights, grads, states, previous + 1, group.getDouble(LR), beta1, beta2,
                group.getDouble(WEIGHT_DECAY), group.getDouble(EPS), group.getBoolean(MAXIMIZE), decoupled);
        return true;
    }

    /**
     * One step of torch's single-tensor Adam: {@code m = b1*m + (1-b1)*g}, {@code v = b2*v + (1-b2)*g²},
     * {@code w -= lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps)} with {@code bcK = 1 - bK^step}; the weight decay is added
     * to the gradient (Adam) or applied as {@code w *= 1 - lr*wd} first (AdamW, {@code decoupled}).
     */
    static void update(ParamGroup group, ParamState state, NDArray weight, NDArray grad, boolean decoupled) {
        NDArray expAvg = state.zerosLike(EXP_AVG, weight);
        NDArray expAvgSq = state.zerosLike(EXP_AVG_SQ, weight);
        long step = state.incrementStep();
        double beta1 = group.getDouble(BETAS, 0);
        double beta2 = group.getDouble(BETAS, 1);
        boolean amsgrad = group.getBoolean(AMSGRAD);
        if (amsgrad || (float) beta1 == 1f || (float) beta2 == 1f) {
            NDArray maxExpAvgSq = amsgrad ? state.zerosLike(MAX_EXP_AVG_SQ, weight) : null;
            plainUpdate(group, weight, grad, expAvg, expAvgSq, maxExpAvgSq, step, decoupled);
            return;
        }
        double lr = group.getDouble(LR);
        double biasCorrection1 = 1 - Math.pow(beta1, step);
        double biasCorrection2Sqrt = Math.sqrt(1 - Math.pow(beta2, step));
        // The kernel weighs new gradients by 1 - beta computed in float from the float beta; torch rounds 1 - beta,
        // computed in double, to float. For beta2 = 0.999 these differ by 1.3e-5. The moments only scale by these
        // constants, so scaling the step and eps by the ratios gives torch's moments.
        double expAvgScale = (float) (1 - beta1) / (double) (1f - (float) beta1);
        double expAvgSqScaleSqrt = Math.sqrt((float) (1 - beta2) / (double) (1f - (float) beta2));
        // The fused kernel (one native call, no Java temporaries) computes w -= k * m / (sqrt(v) + e). With
        // k = lr*sqrt(bc2)/bc1 and e = eps*sqrt(bc2) that equals torch's form, where eps is added after the bias
        // correction of v. A rescale of -1 negates the gradient for maximize, before the L2 term as torch does.
        double stepScale = lr * biasCorrection2Sqrt / biasCorrection1 * expAvgScale / expAvgSqScaleSqrt;
        double kernelEps = group.getDouble(EPS) * biasCorrection2Sqrt / expAvgSqScaleSqrt;
        JniUtils.adamUpdate((PtNDArray) weight, (PtNDArray) grad, (PtNDArray) expAvg, (PtNDArray) expAvgSq,
                (float) lr, (float) stepScale, (float) group.getDouble(WEIGHT_DECAY),
                group.getBoolean(MAXIMIZE) ? -1f : 1f, NO_CLIP, (float) beta1, (float) beta2, (float) kernelEps,
                decoupled);
    }

    /**
     * Adam with public ops, for AMSGrad (the kernel cannot keep the running maximum of v, {@code maxExpAvgSq},
     * {@code null} without AMSGrad) and for betas so close to 1 that the kernel's float {@code 1 - beta} is 0.
     */
    private static void plainUpdate(ParamGroup group, NDArray weight, NDArray grad, NDArray expAvg,
            NDArray expAvgSq, NDArray maxExpAvgSq, long step, boolean decoupled) {
        double lr = group.getDouble(LR);
        double beta1 = group.getDouble(BETAS, 0);
        double beta2 = group.getDouble(BETAS, 1);
        double weightDecay = group.getDouble(WEIGHT_DECAY);
        NDArray direction = group.getBoolean(MAXIMIZE) ? grad.neg() : grad;
        try {
            if (weightDecay != 0) {
                if (decoupled) {
                    weight.muli((float) (1 - lr * weightDecay));
                } else {
                    NDArray withDecay = weight.mul((float) weightDecay);
                    withDecay.addi(direction);
                    if (direction != grad) {
                        direction.close();
                    }
                    direction = withDecay;
                }
            }
            expAvg.muli((float) beta1);
            try (NDArray scaled = direction.mul((float) (1 - beta1))) {
                expAvg.addi(scaled);
            }
            expAvgSq.muli((float) beta2);
            try (NDArray squared = direction.mul(direction)) {
                squared.muli((float) (1 - beta2));
                expAvgSq.addi(squared);
            }
            NDArray second = expAvgSq;
            if (maxExpAvgSq != null) {
                // intern swaps the new maximum's storage into the state array, so the state object stays the same.
                maxExpAvgSq.intern(maxExpAvgSq.maximum(expAvgSq));
                second = maxExpAvgSq;
            }
            try (NDArray denominator = second.sqrt()) {
                denominator.divi((float) Math.sqrt(1 - Math.pow(beta2, step))).addi((float) group.getDouble(EPS));
                try (NDArray change = expAvg.div(denominator)) {
                    change.muli((float) (lr / (1 - Math.pow(beta1, step))));
                    weight.subi(change);
                }
            }
        } finally {
            if (direction != grad) {
                direction.close();
            }
        }
    }
}
