package dev.valet.common.rdma;

import java.net.Inet4Address;
import java.net.InetSocketAddress;

/** struct sockaddr_in in native memory, for rdma_bind_addr and rdma_resolve_addr (IPv4 only). */
public final class SocketAddresses {
    private SocketAddresses() {
    }

    /** A new native sockaddr_in for {@code address}; free it with {@link NativeMemory#free}. */
    public static long sockaddrIn(InetSocketAddress address) {
        if (address.isUnresolved() || !(address.getAddress() instanceof Inet4Address v4)) {
            throw new IllegalArgumentException("RDMA needs an IPv4 address, not " + address);
        }
        long sa = NativeMemory.allocate(VerbsLayout.SOCKADDR_IN_SIZE);
        NativeMemory.putShort(sa, VerbsLayout.SOCKADDR_IN_FAMILY, (short) VerbsLayout.AF_INET);
        NativeMemory.putShort(sa, VerbsLayout.SOCKADDR_IN_PORT, Short.reverseBytes((short) address.getPort()));
        byte[] ip = v4.getAddress();
        for (int i = 0; i < 4; i++) {
            NativeMemory.putByte(sa, VerbsLayout.SOCKADDR_IN_ADDR + i, ip[i]);
        }
        return sa;
    }
}
