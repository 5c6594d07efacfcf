package dev.valet.donor.server.rdma;

/** Sizes of the RDMA control channel (SEND/RECV of protocol frames), as the donor provisions it. */
final class RdmaControl {
    /** The largest request frame a client may SEND (HELLO, ALLOC_SLAB, REGISTER_SLAB, ...; never page data). */
    static final int REQUEST_BYTES = 64 * 1024;
    /** Receive buffers posted per connection: a client has one control request outstanding at a time. */
    static final int RECEIVE_BUFFERS = 4;

    private RdmaControl() {
    }
}
