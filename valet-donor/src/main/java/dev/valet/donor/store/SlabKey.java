package dev.valet.donor.store;

/** A slab's identity on a donor: the client identity that owns it and that client's own slab id. */
public record SlabKey(String owner, long slabId) {
    @Override
    public String toString() {
        return owner + "/" + slabId;
    }
}
