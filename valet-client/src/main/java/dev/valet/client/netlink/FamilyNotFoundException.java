package dev.valet.client.netlink;

/** The kernel has no generic netlink family of that name (nlctrl answered ENOENT). */
public final class FamilyNotFoundException extends NetlinkErrnoException {
    private static final long serialVersionUID = 1L;

    private final String family;

    /**
     * @param family the name looked up
     * @param hint   what to tell the user (how to load the family's module), or null
     */
    public FamilyNotFoundException(String family, String hint) {
        super("generic netlink family " + family + " not found" + (hint != null ? ": " + hint : ""),
                Netlink.ENOENT);
        this.family = family;
    }

    public String family() {
        return family;
    }
}
