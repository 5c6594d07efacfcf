package dev.valet.common.config;

import java.util.Locale;

/**
 * A key whose value is one of a few words ({@code transport: epoll}, {@code headroom.victim: least-active}): the
 * enum constant's name in lower case, {@code _} written {@code -}.
 */
public interface ConfigChoice {
    /** The constant's name, as Java spells it. */
    String name();

    /** The spelling used in configuration. */
    default String configName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /**
     * The choice spelled {@code text}, ignoring case and surrounding whitespace.
     *
     * @param what     what the key chooses, for the message ("transport")
     * @param expected the choices, for the message ("one of epoll, nio, auto")
     * @throws IllegalArgumentException for anything else, listing the choices
     */
    static <E extends Enum<E> & ConfigChoice> E parse(E[] choices, String text, String what, String expected) {
        String name = text == null ? "" : text.strip();
        for (E choice : choices) {
            if (choice.configName().equalsIgnoreCase(name)) {
                return choice;
            }
        }
        throw new IllegalArgumentException("unknown " + what + " '" + name + "' (expected " + expected + ")");
    }
}
