package dev.valet.client.kernel;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.util.List;

/**
 * The /dev/valetN a channel serves: an existing one it adopts (left by an earlier daemon, possibly with held
 * requests) or one it creates, and that device's areas, each mapped once. The data area is mapped lazily, by the
 * first read or write that needs it, because the first requests of a new device arrive before CREATE's answer says
 * which device it is: the IO message's INDEX names it, and its size is the DATA_BYTES asked for (or, for an existing
 * device, the one STATUS reported). The tier area, if the device has one, is mapped once the device is known
 * ({@link #mapTier}).
 */
final class ServedDevice {
    private static final Logger LOG = LoggerFactory.getLogger(KernelChannel.class);

    private final ValetControl control;
    private final DataArea.Mapper mapper;
    private final Object areaLock = new Object();
    /** Mapped lazily, by the first request that needs it or by {@link #mapOwnArea} (guarded by areaLock to map). */
    private volatile DataArea area;
    /** The data area's size: the DATA_BYTES asked for in CREATE, or an existing device's. */
    private volatile long dataBytes;
    /** The tier area's size (0: none): the TIER_BYTES asked for in CREATE, or an existing device's. */
    private volatile long tierBytes;
    /** Mapped by {@link #mapTier}, on the thread that starts the channel; null while not (or no tier). */
    private volatile DataArea tier;
    /** -1 until known (CREATE may still be answering when the first requests of a new device arrive). */
    private volatile int index = -1;
    private volatile long bytes;

    ServedDevice(ValetControl control, DataArea.Mapper mapper, KernelChannel.Settings settings) {
        this.control = control;
        this.mapper = mapper;
        this.bytes = settings.deviceBytes();
        this.dataBytes = settings.dataBytes();
        this.tierBytes = settings.tierBytes();
    }

    /** The existing device to serve, null to create one, or an error when what exists does not fit. */
    static DeviceStatus choose(List<DeviceStatus> devices, KernelChannel.Settings settings) throws IOException {
        if (devices.isEmpty()) {
            return null;
        }
        if (devices.size() > 1) {
            StringBuilder names = new StringBuilder();
            for (DeviceStatus d : devices) {
                names.append(names.length() == 0 ? "" : ", ").append(d.devicePath());
            }
            throw new IOException(devices.size() + " valet devices exist (" + names + "), but one daemon serves"
                    + " exactly one: unload the module (setup/module.sh unload) to start afresh");
        }
        DeviceStatus d = devices.get(0);
        if (d.attached()) {
            throw new IOException(d.devicePath() + " already has a daemon attached: is another valet client"
                    + " running? (setup/client.sh status)");
        }
        if (d.size() != settings.deviceBytes()) {
            throw new IOException(d.devicePath() + " exists with " + d.size() + " bytes, but swapSpace is "
                    + settings.deviceBytes() + " bytes: set swapSpace to " + d.size() + " to serve it (it may hold"
                    + " swapped pages), or swapoff it and unload the module (setup/module.sh unload)");
        }
        return d;
    }

    /** Serves {@code existing}: called before ATTACH, so that the requests held for it, which come at once, fit. */
    void adopt(DeviceStatus existing) throws IOException {
        index = existing.index();
        bytes = existing.size();
        dataBytes = existing.dataBytes();
        if (dataBytes <= 0 || dataBytes > ValetGenl.MAX_DATA_BYTES) {
            throw new IOException("the driver reports a data area of " + dataBytes + " bytes for "
                    + existing.devicePath() + ": does valet.ko speak VALET version " + ValetGenl.GENL_VERSION
                    + "? " + ValetControl.LOAD_THIS_CHECKOUT);
        }
        if (existing.tierBytes() < 0 || existing.tierBytes() > ValetGenl.MAX_TIER_BYTES) {
            throw new IOException("the driver reports a tier area of " + existing.tierBytes() + " bytes for "
                    + existing.devicePath() + ", beyond " + ValetGenl.MAX_TIER_BYTES + ": "
                    + ValetControl.LOAD_THIS_CHECKOUT);
        }
        if (existing.tierBytes() != tierBytes) {
            LOG.warn("{} has a tier area of {} bytes, not the {} bytes configured: its own is used (the host tier's"
                    + " size applies only to devices this daemon creates)", existing.devicePath(),
                    existing.tierBytes(), tierBytes);
        }
        tierBytes = existing.tierBytes();
    }

    /** After ATTACH: says what was adopted, and that valet.yaml's device settings did not apply to it. */
    void adopted(DeviceStatus existing) {
        LOG.info("attached to {} ({} bytes, queue depth {}, hold {}ms, io timeout {}ms, data area {} bytes, tier area"
                        + " {} bytes; {} requests held for a daemon); the device settings of valet.yaml apply only"
                        + " to devices this daemon creates", existing.devicePath(), existing.size(),
                existing.queueDepth(), existing.holdMillis(), existing.ioTimeoutMillis(), existing.dataBytes(),
                existing.tierBytes(), existing.held());
    }

    /** CREATE, after ATTACH: the kernel reads the new disk (partition scan) before CREATE returns. */
    void create(KernelChannel.Settings settings) throws IOException {
        index = control.create(settings.deviceBytes(), settings.queueDepth(), millis(settings.holdTimeout()),
                millis(settings.ioTimeout()), settings.dataBytes(), settings.tierBytes());
        bytes = settings.deviceBytes();
        LOG.info("created {} ({} bytes, queue depth {}, hold {}ms, io timeout {}ms, data area {} bytes, tier area {}"
                        + " bytes)", DeviceStatus.devicePath(index), bytes, settings.queueDepth(),
                settings.holdTimeout().toMillis(), settings.ioTimeout().toMillis(), settings.dataBytes(),
                settings.tierBytes());
    }

    /**
     * Maps the area of the device adopted or created (a request may have done so already), so that a mapping the
     * driver refuses fails the start, not a request.
     */
    DataArea mapOwnArea() throws IOException {
        DataArea a = map(index);
        if (a.index() != index) {
            throw new IOException("requests for /dev/valet" + a.index() + " came before CREATE answered with "
                    + path() + ": another program is creating valet devices (setup/client.sh status)");
        }
        return a;
    }

    /** The mapped area, or null before the first request or start mapped it. */
    DataArea area() {
        return area;
    }

    /**
     * The data area of /dev/valet{@code deviceIndex}, mapped now unless it already is: by the receiver, for the
     * first request that needs it (before CREATE has answered, for a new device), or by {@link #mapOwnArea}.
     */
    DataArea map(int deviceIndex) throws IOException {
        synchronized (areaLock) {
            DataArea a = area;
            if (a == null) {
                a = mapper.map(DataArea.Kind.DATA, deviceIndex, dataBytes);
                area = a;
                LOG.debug("mapped the data area of /dev/valet{}: {} bytes", deviceIndex, a.bytes());
            }
            return a;
        }
    }

    /**
     * Maps the tier area of the device adopted or created, after ATTACH (only the attached daemon may); null when
     * it has none.
     */
    DataArea mapTier() throws IOException {
        if (tierBytes == 0) {
            return null;
        }
        DataArea t = mapper.map(DataArea.Kind.TIER, index, tierBytes);
        tier = t;
        LOG.info("mapped the tier area of {}: {} bytes", path(), t.bytes());
        return t;
    }

    /** Unmaps the tier area, if mapped: only once nothing can touch it any more. */
    void unmapTier() {
        DataArea t = tier;
        if (t != null) {
            t.close();
        }
    }

    /** Unmaps the area, unless {@code stillInEngine} requests may yet touch it (then it stays mapped). */
    void unmap(int stillInEngine, Duration waited) {
        DataArea a;
        synchronized (areaLock) {
            a = area;
        }
        if (a != null && stillInEngine == 0) {
            a.close();
        } else if (a != null) {
            LOG.warn("{} engine requests still running after {}s: the data area stays mapped", stillInEngine,
                    waited.toSeconds());
        }
    }

    /** N of /dev/valetN, or -1 while CREATE has not answered. */
    int index() {
        return index;
    }

    long bytes() {
        return bytes;
    }

    long dataBytes() {
        return dataBytes;
    }

    /** The tier area's size, 0 when the device has none. */
    long tierBytes() {
        return tierBytes;
    }

    String path() {
        return DeviceStatus.devicePath(index);
    }

    private static int millis(Duration d) {
        return (int) Math.min(d.toMillis(), Integer.MAX_VALUE);
    }
}
