package dev.valet.common.rdma;

/**
 * Registered memory (an ibv_mr): {@code lkey} lets local work requests use it, {@code rkey} lets the peer read or
 * write it, if it was registered with remote access. An rkey is handed to one peer only (one registration each).
 */
public record MemoryRegion(long mr, long address, long length, int lkey, int rkey) {
    /** True when {@code [addr, addr + len)} lies inside this region. */
    public boolean covers(long addr, long len) {
        return addr >= address && len >= 0 && addr + len <= address + length;
    }
}
