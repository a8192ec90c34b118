package io.github.djllightning.callbacks;

import io.github.djllightning.optim.AbstractLrScheduler;
import io.github.djllightning.optim.Optimizer;
import io.github.djllightning.optim.ParamGroup;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Anneals every param group's learning rate from its current value to its SWA learning rate over a number of epochs,
 * then holds it there; torch's {@code SWALR}, the schedule {@link StochasticWeightAveraging} swaps in.
 *
 * <p>With {@code lr0} the group's learning rate when the scheduler is created and {@code swaLr} its target, the rate
 * after {@code k} steps is {@code swaLr * a + lr0 * (1 - a)} with {@code a = f(min(1, k / annealEpochs))}, where
 * {@code f(t) = (1 - cos(pi t)) / 2} for {@code "cos"} and {@code f(t) = t} for {@code "linear"}. With {@code
 * annealEpochs} 0 the rate is {@code swaLr} from the start. Like torch, each step recovers {@code lr0} from the
 * group's current rate, so a rate changed in between by someone else takes part in the next step. Each group's target
 * is kept in the group as the option {@code swa_lr}, so the optimizer's state dict carries it.
 */
public final class SwaLR extends AbstractLrScheduler {

    /** The param group option holding the group's SWA learning rate. */
    public static final String SWA_LR = "swa_lr";

    private final int annealEpochs;
    private final boolean cosine;

    /**
     * Creates the schedule and sets its first learning rate (unchanged unless {@code annealEpochs} is 0).
     *
     * @param optimizer the optimizer whose learning rates to anneal
     * @param swaLrs one target learning rate for every param group, or a single one for all of them; each finite and
     *     {@code > 0}
     * @param annealEpochs the epochs the annealing takes, {@code >= 0}
     * @param annealStrategy {@code "cos"} or {@code "linear"}
     * @throws IllegalArgumentException naming the bad value and what is valid
     */
    public SwaLR(Optimizer optimizer, List<Double> swaLrs, int annealEpochs, String annealStrategy) {
        super(optimizer);
        List<ParamGroup> groups = optimizer.paramGroups();
        if (swaLrs == null || (swaLrs.size() != 1 && swaLrs.size() != groups.size())) {
            throw new IllegalArgumentException("SwaLR needs one swa_lr, or one per param group: the optimizer has "
                    + groups.size() + " param groups, got " + swaLrs);
        }
        for (Double lr : swaLrs) {
            if (lr == null || !(lr > 0) || Double.isInfinite(lr)) {
                throw new IllegalArgumentException("SwaLR swa_lr must be finite and > 0, got " + swaLrs);
            }
        }
        if (annealEpochs < 0) {
            throw new IllegalArgumentException("SwaLR annealEpochs must be >= 0, got " + annealEpochs);
        }
        this.annealEpochs = annealEpochs;
        this.cosine = isCosine(annealStrategy);
        for (int i = 0; i < groups.size(); i++) {
            groups.get(i).set(SWA_LR, swaLrs.get(swaLrs.size() == 1 ? 0 : i));
        }
        initialStep();
    }

    static boolean isCosine(String annealStrategy) {
        if ("cos".equals(annealStrategy)) {
            return true;
        }
        if ("linear".equals(annealStrategy)) {
            return false;
        }
        throw new IllegalArgumentException("annealing strategy must be \"cos\" or \"linear\", got "
                + (annealStrategy == null ? null : "\"" + annealStrategy + "\""));
    }

    private double anneal(double t) {
        return cosine ? (1 - Math.cos(Math.PI * t)) / 2 : t;
    }

    private double fraction(int step) {
        return Math.max(0, Math.min(1, (double) step / Math.max(1, annealEpochs)));
    }

    /** {@inheritDoc} */
    @Override
    protected double computeLr(ParamGroup group, double baseLr, int epoch) {
        int step = annealEpochs == 0 ? Math.max(1, epoch) : epoch;
        double swaLr = group.getDouble(SWA_LR);
        double previousAlpha = anneal(fraction(step - 1));
        double startLr = previousAlpha == 1 ? swaLr : (group.lr() - previousAlpha * swaLr) / (1 - previousAlpha);
        double alpha = anneal(fraction(step));
        return swaLr * alpha + startLr * (1 - alpha);
    }

    /** {@inheritDoc} */
    @Override
    protected void putSettings(Map<String, Object> values) {
        values.put("anneal_epochs", annealEpochs);
        values.put("anneal_strategy", cosine ? "cos" : "linear");
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        return String.format(Locale.ROOT, "SwaLR(anneal_epochs=%d, strategy=%s, last_epoch=%d, lr=%s)", annealEpochs,
                cosine ? "cos" : "linear", lastEpoch(), lastLr());
    }
}
