package dev.valet.common.config;

/**
 * The {@code transport} key: which netty transport a daemon asks for. Choosing the actual transport (and
 * failing when epoll is asked for but unavailable) happens at startup, where netty is loaded; this is only
 * the operator's choice, spelled {@code epoll}, {@code nio} or {@code auto}.
 */
public enum TransportChoice implements ConfigChoice {
    /** Native epoll where netty can load it, NIO otherwise. */
    AUTO,
    /** Native epoll; startup fails where it is unavailable. */
    EPOLL,
    /** Java NIO, which works everywhere. */
    NIO;

    static final String EXPECTED = "one of epoll, nio, auto";

    /**
     * Reads {@code epoll}, {@code nio} or {@code auto}, ignoring case and surrounding whitespace.
     *
     * @throws IllegalArgumentException for anything else, listing the choices
     */
    public static TransportChoice parse(String text) {
        return ConfigChoice.parse(values(), text, "transport", EXPECTED);
    }

    /** Same as {@link #configName()}, so messages and {@code NettyTransport.select} get the configured word. */
    @Override
    public String toString() {
        return configName();
    }
}
