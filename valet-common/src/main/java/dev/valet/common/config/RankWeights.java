package dev.valet.common.config;

/**
 * How much each signal counts when donors are ranked for a new slab ({@code placement.weights} in valet.yaml).
 * Each signal is normalised across the candidates to 0..1 before it is weighed, so the weights compare directly.
 *
 * @param freeMemory         weight of the donor's free memory (more is better); default 1.0
 * @param freeMemoryGradient weight of its trend (free memory shrinking fast is worse); default 1.0
 * @param load               weight of its current load, page operations per second (busier is worse); default 0.5
 * @param latency            weight of its measured round-trip time (slower is worse); default 0.5
 */
public record RankWeights(double freeMemory, double freeMemoryGradient, double load, double latency) {
    public static final RankWeights DEFAULTS = new RankWeights(1.0, 1.0, 0.5, 0.5);

    /** @throws ConfigProblem for a negative or non-finite weight, or when every weight is 0 */
    void validate() {
        requireWeight("freeMemory", freeMemory);
        requireWeight("freeMemoryGradient", freeMemoryGradient);
        requireWeight("load", load);
        requireWeight("latency", latency);
        if (freeMemory + freeMemoryGradient + load + latency == 0) {
            throw new ConfigProblem("freeMemory", "at least one weight must be above 0");
        }
    }

    private static void requireWeight(String key, double w) {
        if (!(w >= 0 && w <= 1000)) {
            throw new ConfigProblem(key, "must be between 0 and 1000, got " + w);
        }
    }
}
