package dev.valet.common.rdma;

import dev.valet.common.posix.LibC;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Runtime;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The loaded RDMA libraries: the verbs shim (extracted from the jar), libibverbs and librdmacm, with the shim's
 * layout table checked against {@link VerbsLayout} before anything else may use them. Loaded once per process;
 * {@link #get()} throws {@link RdmaUnavailableException} (with the reason) on a host where that fails.
 */
public final class Rdma {
    private static final Logger LOG = LoggerFactory.getLogger(Rdma.class);
    /** Where the Maven build puts the shim inside the jar (valet-common's pom, native/verbs/Makefile). */
    static final String SHIM_RESOURCE = "/native/linux-x86_64/libvalet_verbs.so";

    private static Rdma instance;
    private static RdmaUnavailableException failure;

    private final VerbsShim shim;
    private final Verbs verbs;
    private final RdmaCm cm;
    private final Map<String, Long> layout;

    private Rdma(VerbsShim shim, Verbs verbs, RdmaCm cm, Map<String, Long> layout) {
        this.shim = shim;
        this.verbs = verbs;
        this.cm = cm;
        this.layout = layout;
    }

    /** The libraries, loaded and layout-checked on first call. */
    public static synchronized Rdma get() {
        if (instance != null) {
            return instance;
        }
        if (failure != null) {
            throw failure;
        }
        try {
            instance = load();
            return instance;
        } catch (RdmaUnavailableException e) {
            failure = e;
            throw e;
        } catch (RuntimeException | LinkageError e) {
            failure = new RdmaUnavailableException("RDMA libraries cannot be loaded: " + e.getMessage(), e);
            throw failure;
        }
    }

    private static Rdma load() {
        Path shimPath = extractShim();
        VerbsShim shim = LibraryLoader.create(VerbsShim.class).failImmediately().load(shimPath.toString());
        Map<String, Long> table = readLayout(shim);
        VerbsLayout.check(table);
        Verbs verbs = LibraryLoader.create(Verbs.class).failImmediately().load("libibverbs.so.1");
        RdmaCm cm = LibraryLoader.create(RdmaCm.class).failImmediately().load("librdmacm.so.1");
        LOG.debug("RDMA libraries loaded; verbs layout checked ({} entries)", table.size());
        return new Rdma(shim, verbs, cm, table);
    }

    /** The shim's (name, value) table, in its order. */
    static Map<String, Long> readLayout(VerbsShim shim) {
        Map<String, Long> table = new LinkedHashMap<>();
        int n = shim.valet_layout_count();
        for (int i = 0; i < n; i++) {
            table.put(shim.valet_layout_name(i), shim.valet_layout_value(i));
        }
        return table;
    }

    private static Path extractShim() {
        try (InputStream in = Rdma.class.getResourceAsStream(SHIM_RESOURCE)) {
            if (in == null) {
                throw new RdmaUnavailableException("the verbs shim " + SHIM_RESOURCE + " is not in the jar (build "
                        + "with libibverbs-dev and librdmacm-dev installed: setup/install-deps.sh)");
            }
            Path file = Files.createTempFile("libvalet_verbs", ".so");
            file.toFile().deleteOnExit();
            Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
            return file;
        } catch (IOException e) {
            throw new RdmaUnavailableException("cannot extract the verbs shim: " + e.getMessage(), e);
        }
    }

    public VerbsShim shim() {
        return shim;
    }

    public Verbs verbs() {
        return verbs;
    }

    public RdmaCm cm() {
        return cm;
    }

    /** The shim's layout table as loaded (already checked). */
    public Map<String, Long> layout() {
        return Map.copyOf(layout);
    }

    /** How many RDMA devices (real or Soft-RoCE) this host has; 0 when none. */
    public int deviceCount() {
        long count = NativeMemory.allocate(8);
        try {
            long list = verbs.ibv_get_device_list(count);
            if (list == 0) {
                return 0;
            }
            int n = NativeMemory.getInt(count, 0);
            verbs.ibv_free_device_list(list);
            return n;
        } finally {
            NativeMemory.free(count);
        }
    }

    /** "call failed: message (errno N)" for the last failed verbs or rdma_cm call on this thread. */
    public String lastError(String call) {
        int errno = Runtime.getRuntime(cm).getLastError();
        if (errno == 0) {
            errno = Runtime.getRuntime(verbs).getLastError();
        }
        return call + " failed: " + LibC.INSTANCE.strerror(errno) + " (errno " + errno + ")";
    }

    /**
     * Why RDMA cannot be used on this host, or {@code null} when it can: the libraries load, the layout matches,
     * and at least one device exists.
     */
    public static String unavailableReason() {
        try {
            Rdma rdma = get();
            return rdma.deviceCount() == 0 ? "no RDMA device (ibv_get_device_list found none)" : null;
        } catch (RdmaUnavailableException e) {
            return e.getMessage();
        }
    }
}
