package dev.valet.common.config;

/**
 * The {@code headroom.victim} key: which lent slabs a donor under memory pressure asks their owners to move first,
 * spelled {@code least-active} or {@code oldest}.
 */
public enum VictimPolicy implements ConfigChoice {
    /** The slab read or written longest ago: moving it disturbs the client least. */
    LEAST_ACTIVE,
    /** The slab allocated longest ago. */
    OLDEST;

    static final String EXPECTED = "one of least-active, oldest";

    /**
     * Reads {@code least-active} or {@code oldest}, ignoring case and surrounding whitespace.
     *
     * @throws IllegalArgumentException for anything else, listing the choices
     */
    public static VictimPolicy parse(String text) {
        return ConfigChoice.parse(values(), text, "victim policy", EXPECTED);
    }

    @Override
    public String toString() {
        return configName();
    }
}
