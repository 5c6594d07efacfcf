package dev.valet.common.config;

/**
 * The {@code transport} key: what carries pages between client and donor. The client: {@code tcp}, {@code rdma}
 * (fail where RDMA cannot be used), or {@code auto} (RDMA to each donor that accepts it when this host has an RDMA
 * device, TCP otherwise). The donor always serves TCP; {@code rdma} also serves RDMA and fails to start without
 * it, {@code auto} serves RDMA too when a device is present. The netty flavour under TCP is not configured: native
 * epoll where available, NIO otherwise.
 */
public enum TransportChoice implements ConfigChoice {
    /** RDMA where it works, TCP otherwise; logged per donor. */
    AUTO,
    /** TCP only. */
    TCP,
    /** RDMA; startup (donor) or connecting (client) fails where it is unavailable. */
    RDMA;

    static final String EXPECTED = "one of rdma, tcp, auto";

    /**
     * Reads {@code rdma}, {@code tcp} or {@code auto}, ignoring case and surrounding whitespace.
     *
     * @throws IllegalArgumentException for anything else, listing the choices
     */
    public static TransportChoice parse(String text) {
        return ConfigChoice.parse(values(), text, "transport", EXPECTED);
    }

    /** Same as {@link #configName()}, so messages get the configured word. */
    @Override
    public String toString() {
        return configName();
    }
}
