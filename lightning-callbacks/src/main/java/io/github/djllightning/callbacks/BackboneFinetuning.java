package io.github.djllightning.callbacks;

import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import io.github.djllightning.module.LightningModule;
import io.github.djllightning.optim.Optimizer;
import io.github.djllightning.optim.ParamGroup;
import io.github.djllightning.trainer.MisconfigurationException;
import io.github.djllightning.trainer.Trainer;
import io.github.djllightning.trainer.TrainerFn;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.IntToDoubleFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Transfer learning with a frozen pretrained backbone that joins training later, at a learning rate that grows
 * epoch by epoch. Lightning's {@code BackboneFinetuning}.
 *
 * <p>The backbone is the module's child block named {@code "backbone"} ({@link Builder#backboneName} changes it).
 * Before training it is frozen (its BatchNorm layers stay trainable, as in Lightning). At the start of epoch {@code
 * unfreezeBackboneAtEpoch} it is unfrozen and its parameters join the optimizer as a new param group with learning
 * rate {@code backboneInitialLr}, or by default {@code backboneInitialRatioLr} times the current learning rate of
 * param group 0. At the start of every later epoch {@code e} the backbone's rate becomes {@code lambdaFunc(e + 1)}
 * times its previous rate (doubling by default); with {@code shouldAlign} it never exceeds group 0's rate.
 *
 * <pre>{@code
 * class TransferLearning extends LightningModule {
 *     TransferLearning(Block pretrained) {
 *         addChildBlock("backbone", pretrained);
 *         addChildBlock("head", Linear.builder().setUnits(10).build());
 *     }
 *     ...
 *     public OptimizerConfig configureOptimizers() {
 *         // only the head: the backbone is added by the callback
 *         return OptimizerConfig.of(new Adam(child("head").getParameters().values(), 1e-3));
 *     }
 * }
 * trainer = Trainer.builder().callbacks(BackboneFinetuning.builder().unfreezeBackboneAtEpoch(5).build()).build();
 * }</pre>
 *
 * <p>If {@code configureOptimizers} already gives the backbone's parameters to the optimizer, they are not added again
 * (a warning says so): they train from the unfreeze epoch at their group's rate, and this callback leaves that rate
 * alone. The backbone's learning rate and the added param group are saved in checkpoints, so a resumed fit continues
 * the schedule with the backbone trainable.
 */
public class BackboneFinetuning extends BaseFinetuning {

    private static final Logger LOG = LoggerFactory.getLogger(BackboneFinetuning.class);

    private final int unfreezeBackboneAtEpoch;
    private final IntToDoubleFunction lambdaFunc;
    private final double backboneInitialRatioLr;
    private final Double backboneInitialLr;
    private final boolean shouldAlign;
    private final double initialDenomLr;
    private final boolean trainBn;
    private final boolean verbose;
    private final int rounding;
    private final String backboneName;
    private Double previousBackboneLr;

    /** Backbone fine-tuning with Lightning's defaults: unfreeze at epoch 10, then double the rate every epoch. */
    public BackboneFinetuning() {
        this(builder());
    }

    /**
     * Creates the callback from a builder.
     *
     * @param b the builder
     */
    protected BackboneFinetuning(Builder b) {
        if (b.unfreezeBackboneAtEpoch < 0) {
            throw new MisconfigurationException("BackboneFinetuning unfreezeBackboneAtEpoch must be >= 0 (the first"
                    + " epoch is 0), got " + b.unfreezeBackboneAtEpoch);
        }
        if (b.lambdaFunc == null) {
            throw new MisconfigurationException("BackboneFinetuning lambdaFunc must not be null; the default doubles"
                    + " the backbone's learning rate every epoch (epoch -> 2.0)");
        }
        if (!(b.backboneInitialRatioLr >= 0) || Double.isInfinite(b.backboneInitialRatioLr)) {
            throw new MisconfigurationException("BackboneFinetuning backboneInitialRatioLr must be finite and >= 0,"
                    + " got " + b.backboneInitialRatioLr);
        }
        if (b.backboneInitialLr != null && (!(b.backboneInitialLr >= 0) || Double.isInfinite(b.backboneInitialLr))) {
            throw new MisconfigurationException("BackboneFinetuning backboneInitialLr must be finite and >= 0 (or"
                    + " null for backboneInitialRatioLr times the current learning rate), got "
                    + b.backboneInitialLr);
        }
        if (!(b.initialDenomLr > 0) || Double.isInfinite(b.initialDenomLr)) {
            throw new MisconfigurationException("BackboneFinetuning initialDenomLr must be finite and > 0, got "
                    + b.initialDenomLr);
        }
        if (b.rounding < 0) {
            throw new MisconfigurationException("BackboneFinetuning rounding must be >= 0 digits, got "
                    + b.rounding);
        }
        if (b.backboneName == null || b.backboneName.isEmpty()) {
            throw new MisconfigurationException("BackboneFinetuning backboneName must name a child block of the"
                    + " module, got " + (b.backboneName == null ? null : "''"));
        }
        this.unfreezeBackboneAtEpoch = b.unfreezeBackboneAtEpoch;
        this.lambdaFunc = b.lambdaFunc;
        this.backboneInitialRatioLr = b.backboneInitialRatioLr;
        this.backboneInitialLr = b.backboneInitialLr;
        this.shouldAlign = b.shouldAlign;
        this.initialDenomLr = b.initialDenomLr;
        this.trainBn = b.trainBn;
        this.verbose = b.verbose;
        this.rounding = b.rounding;
        this.backboneName = b.backboneName;
    }

    /**
     * Starts a builder with Lightning's defaults.
     *
     * @return the builder
     */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    public String stateKey() {
        return "BackboneFinetuning";
    }

    /**
     * The backbone block of a module.
     *
     * @param module the module
     * @return its child named {@code backboneName}
     * @throws MisconfigurationException when there is no such child
     */
    protected Block backbone(LightningModule module) {
        try {
            return module.child(backboneName);
        } catch (IllegalArgumentException e) {
            throw new MisconfigurationException("BackboneFinetuning needs the backbone as a child block: "
                    + e.getMessage() + " Or set backboneName to the child to fine-tune.");
        }
    }

    @Override
    public void setup(Trainer trainer, LightningModule module, TrainerFn stage) {
        if (stage == TrainerFn.FIT) {
            previousBackboneLr = null;
        }
        super.setup(trainer, module, stage);
    }

    @Override
    protected void freezeBeforeTraining(LightningModule module) {
        freeze(backbone(module), true);
    }

    @Override
    protected void finetuneFunction(LightningModule module, int epoch, Optimizer optimizer) {
        double currentLr = optimizer.paramGroups().get(0).lr();
        if (epoch == unfreezeBackboneAtEpoch) {
            double initial = backboneInitialLr != null ? backboneInitialLr : currentLr * backboneInitialRatioLr;
            previousBackboneLr = initial;
            unfreezeAndAddParamGroup(backbone(module), optimizer, initial, initialDenomLr, trainBn);
            if (verbose) {
                LOG.info("Current lr: {}, Backbone lr: {}", round(currentLr), round(initial));
            }
        } else if (epoch > unfreezeBackboneAtEpoch && previousBackboneLr != null) {
            double factor = lambdaFunc.applyAsDouble(epoch + 1);
            if (!(factor >= 0) || Double.isInfinite(factor)) {
                throw new MisconfigurationException("BackboneFinetuning lambdaFunc(" + (epoch + 1) + ") returned "
                        + factor + "; it must return a finite factor >= 0");
            }
            double next = factor * previousBackboneLr;
            if (shouldAlign && next > currentLr) {
                next = currentLr;
            }
            ParamGroup group = backboneGroup(module, optimizer);
            if (group != null) {
                group.setLr(next);
            }
            previousBackboneLr = next;
            if (verbose) {
                LOG.info("Current lr: {}, Backbone lr: {}", round(currentLr), round(next));
            }
        }
    }

    /** The last param group when it holds only backbone parameters, else null (no group of the backbone's own). */
    private ParamGroup backboneGroup(LightningModule module, Optimizer optimizer) {
        List<ParamGroup> groups = optimizer.paramGroups();
        if (groups.size() < 2) {
            return null;
        }
        Set<Parameter> backbone = Collections.newSetFromMap(new IdentityHashMap<>());
        backbone.addAll(backbone(module).getParameters().values());
        ParamGroup last = groups.get(groups.size() - 1);
        return backbone.containsAll(last.params()) ? last : null;
    }

    private BigDecimal round(double value) {
        return BigDecimal.valueOf(value).setScale(rounding, RoundingMode.HALF_EVEN).stripTrailingZeros();
    }

    /**
     * The backbone's learning rate set at the latest epoch start, or null before the unfreeze epoch.
     *
     * @return the learning rate
     */
    public Double previousBackboneLr() {
        return previousBackboneLr;
    }

    /**
     * The epoch at which the backbone is unfrozen, from 0.
     *
     * @return the epoch
     */
    public int unfreezeBackboneAtEpoch() {
        return unfreezeBackboneAtEpoch;
    }

    @Override
    public Map<String, Object> stateDict() {
        Map<String, Object> state = super.stateDict();
        state.put("previous_backbone_lr", previousBackboneLr);
        return state;
    }

    @Override
    public void loadStateDict(Map<String, Object> state) {
        Object lr = state.get("previous_backbone_lr");
        if (lr != null && !(lr instanceof Number)) {
            throw new IllegalArgumentException("previous_backbone_lr must be a number or null, found " + lr);
        }
        super.loadStateDict(state);
        previousBackboneLr = lr == null ? null : ((Number) lr).doubleValue();
    }

    /** Configures {@link BackboneFinetuning}; every setter has Lightning's default. */
    public static class Builder {
        private int unfreezeBackboneAtEpoch = 10;
        private IntToDoubleFunction lambdaFunc = epoch -> 2.0;
        private double backboneInitialRatioLr = 0.1;
        private Double backboneInitialLr;
        private boolean shouldAlign = true;
        private double initialDenomLr = 10.0;
        private boolean trainBn = true;
        private boolean verbose;
        private int rounding = 12;
        private String backboneName = "backbone";

        Builder() {}

        /**
         * Sets the epoch (from 0) at which the backbone is unfrozen (default 10).
         *
         * @param epoch {@code >= 0}
         * @return this builder
         */
        public Builder unfreezeBackboneAtEpoch(int epoch) {
            unfreezeBackboneAtEpoch = epoch;
            return this;
        }

        /**
         * Sets the factor applied to the backbone's learning rate at each epoch after the unfreeze epoch; it gets
         * the epoch number plus one (default: always 2.0).
         *
         * @param fn epoch + 1 to a finite factor {@code >= 0}
         * @return this builder
         */
        public Builder lambdaFunc(IntToDoubleFunction fn) {
            lambdaFunc = fn;
            return this;
        }

        /**
         * Sets the backbone's initial learning rate as a share of group 0's current rate (default 0.1).
         *
         * @param ratio finite, {@code >= 0}
         * @return this builder
         */
        public Builder backboneInitialRatioLr(double ratio) {
            backboneInitialRatioLr = ratio;
            return this;
        }

        /**
         * Sets the backbone's initial learning rate outright, instead of the ratio (default null: use the ratio).
         *
         * @param lr finite, {@code >= 0}, or null
         * @return this builder
         */
        public Builder backboneInitialLr(Double lr) {
            backboneInitialLr = lr;
            return this;
        }

        /**
         * Sets whether the backbone's learning rate stops growing at group 0's rate (default true).
         *
         * @param value whether to align
         * @return this builder
         */
        public Builder shouldAlign(boolean value) {
            shouldAlign = value;
            return this;
        }

        /**
         * Sets the divisor of group 0's rate that {@link BaseFinetuning#unfreezeAndAddParamGroup} uses when it is
         * given no learning rate (default 10). This callback always gives one, so it only matters to subclasses.
         *
         * @param value finite, {@code > 0}
         * @return this builder
         */
        public Builder initialDenomLr(double value) {
            initialDenomLr = value;
            return this;
        }

        /**
         * Sets whether the backbone's BatchNorm layers join its param group when it is unfrozen (default true).
         *
         * @param value whether to train BatchNorm
         * @return this builder
         */
        public Builder trainBn(boolean value) {
            trainBn = value;
            return this;
        }

        /**
         * Sets whether the learning rates are logged at every epoch start from the unfreeze epoch (default false).
         *
         * @param value whether to log
         * @return this builder
         */
        public Builder verbose(boolean value) {
            verbose = value;
            return this;
        }

        /**
         * Sets the decimal places of the logged learning rates (default 12).
         *
         * @param digits {@code >= 0}
         * @return this builder
         */
        public Builder rounding(int digits) {
            rounding = digits;
            return this;
        }

        /**
         * Sets the name of the child block that is the backbone (default {@code "backbone"}, the attribute Lightning
         * requires).
         *
         * @param name a name given to {@code addChildBlock}
         * @return this builder
         */
        public Builder backboneName(String name) {
            backboneName = name;
            return this;
        }

        /**
         * Builds the callback.
         *
         * @return the callback
         * @throws MisconfigurationException naming a bad setting
         */
        public BackboneFinetuning build() {
            return new BackboneFinetuning(this);
        }
    }
}
