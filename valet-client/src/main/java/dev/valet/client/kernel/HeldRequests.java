package dev.valet.client.kernel;

/**
 * Reads and writes that came before the page store was ready to serve them: a restarted daemon ATTACHes (only the
 * attached daemon may map the tier area, so two daemons never recover one tier), and the requests the driver held
 * for it come at once, while the tier is still being recovered. They wait here, in order of arrival, each with its
 * slot and descriptor (its pages stay in the driver's data area), until {@link RequestReceiver#serveWith} hands
 * them to the store. Preallocated: one entry per request slot, as each holds a slot.
 */
final class HeldRequests {
    private final int[] slot;
    private final int[] op;
    private final long[] firstPage;
    private final int[] pages;
    private final int[] buf;
    private int count;

    HeldRequests(int capacity) {
        slot = new int[capacity];
        op = new int[capacity];
        firstPage = new long[capacity];
        pages = new int[capacity];
        buf = new int[capacity];
    }

    /** Keeps one request; there is room for every slot. */
    void add(int requestSlot, int requestOp, long requestFirstPage, int requestPages, int requestBuf) {
        slot[count] = requestSlot;
        op[count] = requestOp;
        firstPage[count] = requestFirstPage;
        pages[count] = requestPages;
        buf[count] = requestBuf;
        count++;
    }

    int count() {
        return count;
    }

    int slot(int i) {
        return slot[i];
    }

    int op(int i) {
        return op[i];
    }

    long firstPage(int i) {
        return firstPage[i];
    }

    int pages(int i) {
        return pages[i];
    }

    int buf(int i) {
        return buf[i];
    }

    void clear() {
        count = 0;
    }
}
