package dev.valet.client.kernel;

import dev.valet.client.netlink.AttributeReader;
import dev.valet.client.netlink.FamilyNotFoundException;
import dev.valet.client.netlink.GenericNetlink;
import dev.valet.client.netlink.MessageWriter;
import dev.valet.client.netlink.Netlink;
import dev.valet.client.netlink.NetlinkErrnoException;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The driver's control commands that need no attached daemon: STATUS and CREATE (and DESTROY), over a generic
 * netlink socket of their own. ATTACH and DETACH belong to the port that serves I/O, so {@link KernelChannel}
 * sends those on its data socket.
 */
public final class ValetControl implements AutoCloseable {
    private final GenericNetlink netlink;
    private final GenericNetlink.Family family;
    private final AttributeReader attributes = new AttributeReader();
    /** Whether STATUS for every device must be asked for as a dump (the driver has no doit for it). */
    private boolean statusByDump;

    private ValetControl(GenericNetlink netlink, GenericNetlink.Family family) {
        this.netlink = netlink;
        this.family = family;
    }

    /** What to do when the VALET family is missing. */
    static final String MODULE_NOT_LOADED = "is valet.ko loaded? (setup/module.sh load)";

    /** What to do when valet.ko speaks another VALET version than this daemon. */
    static final String LOAD_THIS_CHECKOUT = "load the module built from this checkout (swapoff its devices, then"
            + " setup/module.sh unload && setup/module.sh build && setup/module.sh load)";

    /**
     * Resolves the VALET family over {@code netlink}, which this then owns.
     *
     * @throws FamilyNotFoundException when valet.ko is not loaded
     * @throws NetlinkErrnoException   (EPROTO) when it registers another VALET version than {@link
     *                                 ValetGenl#GENL_VERSION}
     */
    public static ValetControl open(GenericNetlink netlink) throws IOException {
        try {
            GenericNetlink.Family family = netlink.resolve(ValetGenl.GENL_NAME, MODULE_NOT_LOADED);
            if (family.version() != ValetGenl.GENL_VERSION) {
                throw new NetlinkErrnoException("the loaded valet.ko speaks VALET version " + family.version()
                        + ", this daemon speaks version " + ValetGenl.GENL_VERSION + ": " + LOAD_THIS_CHECKOUT,
                        Netlink.EPROTO);
            }
            return new ValetControl(netlink, family);
        } catch (IOException | RuntimeException e) {
            netlink.close();
            throw e;
        }
    }

    /** {@link #open(GenericNetlink)} on a socket of its own. */
    public static ValetControl open() throws IOException {
        return open(GenericNetlink.open());
    }

    public int familyId() {
        return family.id();
    }

    public GenericNetlink.Family family() {
        return family;
    }

    /** STATUS of every device, in the driver's order. */
    public List<DeviceStatus> status() throws IOException {
        List<DeviceStatus> devices = new ArrayList<>();
        if (!statusByDump) {
            try {
                netlink.request("STATUS", family.id(), ValetGenl.CMD_STATUS, ValetGenl.GENL_VERSION,
                        Netlink.NLM_F_ACK);
                netlink.transact(m -> devices.add(DeviceStatus.read(m.attributes(attributes))));
                return devices;
            } catch (NetlinkErrnoException e) {
                if (e.errno() != Netlink.EOPNOTSUPP) {
                    throw e;
                }
                statusByDump = true; // STATUS of all devices is a dump in this driver
                devices.clear();
            }
        }
        netlink.request("STATUS (dump)", family.id(), ValetGenl.CMD_STATUS, ValetGenl.GENL_VERSION,
                Netlink.NLM_F_DUMP);
        netlink.transact(m -> devices.add(DeviceStatus.read(m.attributes(attributes))));
        return devices;
    }

    /** STATUS of /dev/valet{@code index}. */
    public DeviceStatus status(int index) throws IOException {
        DeviceStatus[] found = new DeviceStatus[1];
        netlink.request("STATUS(/dev/valet" + index + ")", family.id(), ValetGenl.CMD_STATUS, ValetGenl.GENL_VERSION,
                Netlink.NLM_F_ACK).putU32(ValetGenl.ATTR_INDEX, index);
        netlink.transact(m -> found[0] = DeviceStatus.read(m.attributes(attributes)));
        if (found[0] == null) {
            throw new IOException("the driver acknowledged STATUS(/dev/valet" + index + ") without describing it");
        }
        return found[0];
    }

    /**
     * CREATE: a new /dev/valetN of {@code size} bytes with a data area of {@code dataBytes} and a tier area of
     * {@code tierBytes} (0: none); returns N. Attach a daemon first: the kernel reads the new disk (partition scan)
     * before CREATE returns.
     */
    public int create(long size, int queueDepth, int holdMillis, int ioTimeoutMillis, long dataBytes,
                      long tierBytes) throws IOException {
        int[] index = {-1};
        MessageWriter request = netlink.request("CREATE(" + size + " bytes)", family.id(), ValetGenl.CMD_CREATE,
                        ValetGenl.GENL_VERSION, Netlink.NLM_F_ACK)
                .putU64(ValetGenl.ATTR_SIZE, size)
                .putU32(ValetGenl.ATTR_QUEUE_DEPTH, queueDepth)
                .putU32(ValetGenl.ATTR_HOLD_MS, holdMillis)
                .putU32(ValetGenl.ATTR_IO_TIMEOUT_MS, ioTimeoutMillis)
                .putU64(ValetGenl.ATTR_DATA_BYTES, dataBytes);
        if (tierBytes != 0) {
            request.putU64(ValetGenl.ATTR_TIER_BYTES, tierBytes);
        }
        netlink.transact(m -> {
            m.attributes(attributes);
            while (attributes.next()) {
                if (attributes.type() == ValetGenl.ATTR_INDEX) {
                    index[0] = attributes.u32();
                }
            }
        });
        if (index[0] < 0) {
            throw new IOException("the driver acknowledged CREATE without the new device's VALET_ATTR_INDEX");
        }
        return index[0];
    }

    /** DESTROY /dev/valet{@code index} (EBUSY while it is open, e.g. as swap). */
    public void destroy(int index) throws IOException {
        netlink.request("DESTROY(/dev/valet" + index + ")", family.id(), ValetGenl.CMD_DESTROY,
                ValetGenl.GENL_VERSION, Netlink.NLM_F_ACK).putU32(ValetGenl.ATTR_INDEX, index);
        netlink.transact(null);
    }

    @Override
    public void close() {
        netlink.close();
    }
}
