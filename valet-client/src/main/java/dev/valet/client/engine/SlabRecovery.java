package dev.valet.client.engine;

import dev.valet.client.engine.donors.DonorPool;
import dev.valet.client.engine.donors.RemoteDonor;
import dev.valet.client.transport.DonorConnection;
import dev.valet.common.protocol.PageIndex;
import dev.valet.common.protocol.SlabList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;

/**
 * Rebuilds the slab map of a restarted client from what its donors hold: every donor lists the slabs this identity
 * owns there (LIST_SLABS) and the version and CRC32C of each of their pages (READ_INDEX). For each page the newest
 * version any copy holds is the current one. A copy that holds the current version of every page becomes a replica;
 * a copy that is behind on any page missed writes and is freed (re-replication makes a new one). Slabs of another
 * size (an earlier life with another {@code slabSize}) cannot be used and are freed.
 */
final class SlabRecovery {
    private static final Logger LOG = LoggerFactory.getLogger(SlabRecovery.class);

    private final SlabMap map;
    private final DonorPool pool;
    private final ReReplicator repair;
    private final int numReplica;

    SlabRecovery(SlabMap map, DonorPool pool, ReReplicator repair, int numReplica) {
        this.map = map;
        this.pool = pool;
        this.repair = repair;
        this.numReplica = numReplica;
    }

    /** Recovers every slab found on the live donors; returns how many slabs were recovered. */
    int recover() {
        Map<Long, List<RemoteDonor>> holders = new LinkedHashMap<>();
        for (RemoteDonor d : pool.live()) {
            SlabList list;
            try {
                list = d.connection().listSlabs().join();
            } catch (CompletionException e) {
                LOG.warn("donor {}: cannot list its slabs: {}", d, ReplicaWriter.rootMessage(e));
                continue;
            }
            for (SlabList.Entry e : list.slabs()) {
                d.placedSlabs().add(e.slabId());
                if (e.slabId() < 0 || e.slabId() >= map.slabCount() || e.slabBytes() != map.slabBytes()) {
                    LOG.warn("donor {}: slab {} of {} bytes does not fit this swap space ({} slabs of {} bytes);"
                            + " freeing it", d, e.slabId(), e.slabBytes(), map.slabCount(), map.slabBytes());
                    free(d, e.slabId());
                    continue;
                }
                holders.computeIfAbsent(e.slabId(), k -> new ArrayList<>()).add(d);
            }
        }
        long pagesWritten = 0;
        int staleCopies = 0;
        for (Map.Entry<Long, List<RemoteDonor>> e : holders.entrySet()) {
            SlabEntry slab = map.slabOf(e.getKey() * map.pagesPerSlab());
            Recovered r = recoverSlab(slab, e.getValue());
            pagesWritten += r.pagesWritten;
            staleCopies += r.staleCopies;
        }
        if (!holders.isEmpty()) {
            LOG.info("recovered {} slabs ({} pages written) from the donors; {} stale copies freed", holders.size(),
                    pagesWritten, staleCopies);
        }
        return holders.size();
    }

    private record Recovered(long pagesWritten, int staleCopies) {
    }

    private Recovered recoverSlab(SlabEntry slab, List<RemoteDonor> holders) {
        int n = slab.pageCount();
        List<RemoteDonor> readable = new ArrayList<>();
        List<long[]> versions = new ArrayList<>();
        List<int[]> crcs = new ArrayList<>();
        for (RemoteDonor d : holders) {
            long[] v = new long[n];
            int[] c = new int[n];
            if (readIndex(d, slab.id(), v, c)) {
                readable.add(d);
                versions.add(v);
                crcs.add(c);
            }
        }
        long[] newest = new long[n];
        int[] newestCrc = new int[n];
        for (int k = 0; k < readable.size(); k++) {
            for (int i = 0; i < n; i++) {
                if (versions.get(k)[i] > newest[i]) {
                    newest[i] = versions.get(k)[i];
                    newestCrc[i] = crcs.get(k)[i];
                }
            }
        }
        List<RemoteDonor> current = new ArrayList<>();
        for (int k = 0; k < readable.size(); k++) {
            if (java.util.Arrays.equals(versions.get(k), newest)) {
                current.add(readable.get(k));
            }
        }
        if (current.isEmpty() && !readable.isEmpty()) {
            // No copy has every newest page (a crash between copies' writes of different runs): keep them all;
            // a read then falls over, run by run, to the copy that has the version it expects.
            LOG.warn("slab {}: no copy holds the newest version of every page; keeping all {} copies",
                    slab.id(), readable.size());
            current.addAll(readable);
        }
        int stale = 0;
        for (RemoteDonor d : holders) {
            if (!current.contains(d)) {
                LOG.info("slab {}: the copy on {} missed writes; freeing it", slab.id(), d);
                free(d, slab.id());
                stale++;
            }
        }
        long written = 0;
        synchronized (slab) {
            for (int i = 0; i < n; i++) {
                map.restore(slab.firstPage() + i, newest[i], newestCrc[i]);
                if (newest[i] != 0) {
                    written++;
                }
            }
            slab.setReplicas(current);
        }
        if (current.size() < numReplica) {
            repair.enqueue(slab);
        }
        return new Recovered(written, stale);
    }

    /** Fills {@code versions} and {@code crcs} from the donor's index of the slab; false if it could not. */
    private static boolean readIndex(RemoteDonor d, long slabId, long[] versions, int[] crcs) {
        DonorConnection c = d.connection();
        int perRequest = PageIndex.maxPages(c.hello().maxFrameBytes());
        try {
            for (int first = 0; first < versions.length; first += perRequest) {
                int count = Math.min(perRequest, versions.length - first);
                PageIndex index = c.readIndex(slabId, first, count).join();
                System.arraycopy(index.versions(), 0, versions, first, count);
                System.arraycopy(index.crcs(), 0, crcs, first, count);
            }
            return true;
        } catch (CompletionException e) {
            LOG.warn("donor {}: cannot read the index of slab {}: {}", d, slabId, ReplicaWriter.rootMessage(e));
            return false;
        }
    }

    private static void free(RemoteDonor d, long slabId) {
        d.connection().freeSlab(slabId).exceptionally(e -> null).join();
        d.placedSlabs().remove(slabId);
    }
}
