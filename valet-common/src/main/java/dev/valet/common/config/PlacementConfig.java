package dev.valet.common.config;

import java.util.Objects;

/**
 * Where slabs go ({@code placement} in valet.yaml). A slab is placed at its first write: {@code serverSelectNum}
 * live donors are drawn at random (all of them when there are fewer), ranked by {@code weights}, and the top
 * {@code numReplica} get a copy each; never two copies on one donor.
 *
 * @param numReplica      copies of every slab, on distinct donors; default 2, allowed 1 to 8 (the seeds'
 *                        NUM_REPLICA)
 * @param serverSelectNum candidates drawn for each placement; default 4, at least {@code numReplica}, at most 1024
 *                        (the seeds' SERVER_SELECT_NUM)
 * @param weights         how the candidates are ranked; see {@link RankWeights}
 */
public record PlacementConfig(int numReplica, int serverSelectNum, RankWeights weights) {
    public static final PlacementConfig DEFAULTS = new PlacementConfig(2, 4, RankWeights.DEFAULTS);
    public static final int MAX_NUM_REPLICA = 8;
    public static final int MAX_SERVER_SELECT_NUM = 1024;

    public PlacementConfig {
        Objects.requireNonNull(weights, "weights");
    }

    /** @throws ConfigProblem with the key path relative to {@code placement} */
    void validate() {
        ConfigRules.requireBetween("numReplica", numReplica, 1, MAX_NUM_REPLICA);
        if (serverSelectNum < numReplica || serverSelectNum > MAX_SERVER_SELECT_NUM) {
            throw new ConfigProblem("serverSelectNum", "must be at least numReplica (" + numReplica + ") and at most "
                    + MAX_SERVER_SELECT_NUM + ", got " + serverSelectNum);
        }
        ConfigRules.inSection("weights", weights::validate);
    }
}
