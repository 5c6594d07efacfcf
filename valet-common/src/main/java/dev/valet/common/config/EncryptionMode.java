package dev.valet.common.config;

/**
 * The {@code encryption.mode} key: whether the client encrypts each page before it leaves the machine,
 * spelled {@code off} or {@code aes-256-gcm} (docs/security.md).
 */
public enum EncryptionMode implements ConfigChoice {
    /** Pages leave the machine as they are (the default; logged at startup). */
    OFF,
    /** AES-256-GCM per page: donors and the wire see ciphertext, a tag authenticates each page. */
    AES_256_GCM;

    static final String EXPECTED = "one of off, aes-256-gcm";

    /**
     * Reads {@code off} or {@code aes-256-gcm}, ignoring case and surrounding whitespace.
     *
     * @throws IllegalArgumentException for anything else, listing the choices
     */
    public static EncryptionMode parse(String text) {
        return ConfigChoice.parse(values(), text, "encryption mode", EXPECTED);
    }

    /** Same as {@link #configName()}, so messages get the configured word. */
    @Override
    public String toString() {
        return configName();
    }
}
