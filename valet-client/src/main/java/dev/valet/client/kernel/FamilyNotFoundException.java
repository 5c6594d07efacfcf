package dev.valet.client.kernel;

/** The kernel has no generic netlink family of that name (nlctrl answered ENOENT). */
public final class FamilyNotFoundException extends NetlinkErrnoException {
    private static final long serialVersionUID = 1L;

    private final String family;

    public FamilyNotFoundException(String family) {
        super("generic netlink family " + family + " not found"
                + (ValetGenl.GENL_NAME.equals(family) ? ": is valet.ko loaded? (setup/module.sh load)" : ""),
                Netlink.ENOENT);
        this.family = family;
    }

    public String family() {
        return family;
    }
}
