package dev.valet.common.config;

/**
 * Read-ahead into the host tier ({@code hostTier.prefetch} in valet.yaml), after Leap (ATC'20): the differences
 * between the page numbers of recent swap-ins are put to a majority vote; a difference that wins predicts the next
 * pages, and up to {@code maxPages} of them are read from the donors into the tier before they are asked for.
 *
 * @param enabled  whether to read ahead; default {@code true}
 * @param window   how many recent differences are voted over (Leap's history of 8); default {@code 8}, allowed 2
 *                 to 64
 * @param maxPages most pages read ahead of one stream of swap-ins (the window grows to it while read-ahead pages
 *                 are used); default {@code 32}, allowed 1 to 1024
 */
public record PrefetchConfig(boolean enabled, int window, int maxPages) {
    public static final PrefetchConfig DEFAULTS = new PrefetchConfig(true, 8, 32);
    public static final int MAX_WINDOW = 64;
    public static final int MAX_PAGES = 1024;

    /** @throws ConfigProblem with the key path relative to {@code hostTier.prefetch} */
    void validate() {
        ConfigRules.requireBetween("window", window, 2, MAX_WINDOW);
        ConfigRules.requireBetween("maxPages", maxPages, 1, MAX_PAGES);
    }
}
