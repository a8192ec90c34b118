package io.github.djllightning.tuner;

import io.github.djllightning.module.LightningModule;
import io.github.djllightning.trainer.MisconfigurationException;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a module keeps the learning rate its optimizer is built with, so the learning-rate finder can set it: the
 * module itself when it implements {@link HasLearningRate}, or one of its hyperparameters ({@link
 * LightningModule#hparams()}), which {@code configureOptimizers} must then read. Lightning's {@code lr} / {@code
 * learning_rate} attribute lookup.
 */
public final class LearningRateAttribute {

    private static final Logger LOG = LoggerFactory.getLogger(LearningRateAttribute.class);
    private static final List<String> DEFAULT_NAMES = List.of("lr", "learning_rate");

    private final LightningModule module;
    private final String hparam;

    private LearningRateAttribute(LightningModule module, String hparam) {
        this.module = module;
        this.hparam = hparam;
    }

    /**
     * Finds where the module keeps its learning rate.
     *
     * @param module the module
     * @param attrName a hyperparameter name, or empty for: the module's {@link HasLearningRate}, else the
     *     hyperparameter {@code "lr"}, else {@code "learning_rate"}
     * @return the attribute
     * @throws MisconfigurationException when there is no such place, naming the module's hyperparameters and the fix
     */
    public static LearningRateAttribute find(LightningModule module, String attrName) {
        String type = module.getClass().getSimpleName();
        if (attrName != null && !attrName.isEmpty()) {
            if (!module.hparams().containsKey(attrName)) {
                throw new MisconfigurationException("The learning-rate finder's attrName is \"" + attrName + "\", but "
                        + type + " has no hyperparameter of that name; its hyperparameters are "
                        + module.hparams().keySet() + ". Record it with saveHyperparameters, or fix attrName.");
            }
            return checked(module, attrName);
        }
        if (module instanceof HasLearningRate) {
            return new LearningRateAttribute(module, null);
        }
        for (String name : DEFAULT_NAMES) {
            if (module.hparams().containsKey(name)) {
                return checked(module, name);
            }
        }
        throw new MisconfigurationException("The learning-rate finder cannot set the learning rate of " + type
                + ": it does not implement HasLearningRate and has no hyperparameter \"lr\" or \"learning_rate\" (its"
                + " hyperparameters are " + module.hparams().keySet() + "). Implement HasLearningRate, record the"
                + " rate with saveHyperparameters and read it from hparams() in configureOptimizers, set attrName to"
                + " the hyperparameter that holds it, or set updateAttr(false).");
    }

    private static LearningRateAttribute checked(LightningModule module, String name) {
        Object value = module.hparams().get(name);
        if (!(value instanceof Number)) {
            throw new MisconfigurationException("The hyperparameter \"" + name + "\" of "
                    + module.getClass().getSimpleName() + " should hold the learning rate, but holds " + value
                    + "; point attrName at a number.");
        }
        if (module.hparamsType() != null) {
            LOG.warn("The learning-rate finder sets the hyperparameter \"{}\" of {}, whose hyperparameters come from a"
                    + " {} record: configureOptimizers must read hparams().get(\"{}\") (not the record) for the new"
                    + " rate to take effect, or implement HasLearningRate.", name, module.getClass().getSimpleName(),
                    module.hparamsType().getSimpleName(), name);
        }
        return new LearningRateAttribute(module, name);
    }

    /** The learning rate held now. */
    public double get() {
        return hparam == null
                ? ((HasLearningRate) module).learningRate()
                : ((Number) module.hparams().get(hparam)).doubleValue();
    }

    /**
     * Sets the learning rate.
     *
     * @param lr the new rate
     */
    public void set(double lr) {
        if (hparam == null) {
            ((HasLearningRate) module).setLearningRate(lr);
        } else {
            module.hparams().put(hparam, lr);
        }
    }

    /** Where the rate is kept, for messages: {@code HasLearningRate} or {@code hparams["lr"]}. */
    public String describe() {
        return hparam == null ? "HasLearningRate" : "hparams[\"" + hparam + "\"]";
    }
}
