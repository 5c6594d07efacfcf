package dev.valet.memory;

import dev.valet.common.config.ClientConfig;
import dev.valet.common.config.ConfigLoader;
import dev.valet.common.portal.DonorAddress;
import dev.valet.donor.DonorProcess;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Real donor processes on loopback for the memory tests, and the valet.yaml of a memory over them: a small space in
 * small slabs (so regions span slabs), failures found quickly.
 */
final class LoopbackCluster implements AutoCloseable {
    static final long SPACE = 64L << 20;
    static final long SLAB = 1L << 20;

    final List<DonorProcess> donors = new ArrayList<>();

    LoopbackCluster(Path dir, int count) throws IOException {
        try {
            for (int i = 0; i < count; i++) {
                donors.add(DonorProcess.start(dir, "d" + i, "memory: 256M\nlockMemory: false\n"));
            }
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    List<DonorAddress> addresses() {
        return donors.stream().map(DonorProcess::address).toList();
    }

    /** The tests' client configuration under {@code identity}, {@code replicas} copies of every slab. */
    ClientConfig config(String identity, int replicas) {
        return config(identity, replicas, donors.size());
    }

    /** {@link #config(String, int)} for {@code donorCount} donors started otherwise. */
    static ClientConfig config(String identity, int replicas, int donorCount) {
        return ConfigLoader.parse("memory-test", """
                identity: %s
                swapSpace: %d
                slabSize: %d
                maxPagesPerFrame: 64
                requestTimeout: 5s
                placement:
                  numReplica: %d
                  serverSelectNum: %d
                failover:
                  heartbeatInterval: 100ms
                  donorTimeout: 2s
                  reReplicationRate: 1G
                """.formatted(identity, SPACE, SLAB, replicas, donorCount), ClientConfig.class);
    }

    RemoteMemory connect(String identity, int replicas, MemoryOptions options) throws MemoryException {
        return RemoteMemory.connect(config(identity, replicas), addresses(), options);
    }

    @Override
    public void close() throws IOException {
        for (DonorProcess p : donors) {
            p.close();
        }
    }
}
