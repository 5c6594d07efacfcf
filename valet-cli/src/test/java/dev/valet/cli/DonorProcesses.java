package dev.valet.cli;

import dev.valet.client.engine.Engine;
import dev.valet.common.portal.DonorAddress;
import dev.valet.common.protocol.FrameHeader;
import dev.valet.donor.DonorProcess;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Real donor processes on loopback for the CLI's tests: {@code n} of them lending 64 MiB each (memory not locked),
 * the portal.list naming them, and zero pages written through an engine to give them something to hold.
 */
final class DonorProcesses implements AutoCloseable {
    private static final String DONOR_YAML = "memory: 64M\nlockMemory: false\n";

    private final Path dir;
    private final List<DonorProcess> processes = new ArrayList<>();

    private DonorProcesses(Path dir) {
        this.dir = dir;
    }

    /** Starts {@code n} donors with their files in {@code dir}, named {@code prefix0, prefix1...}. */
    static DonorProcesses start(Path dir, String prefix, int n) throws IOException {
        DonorProcesses donors = new DonorProcesses(dir);
        try {
            for (int i = 0; i < n; i++) {
                donors.processes.add(DonorProcess.start(dir, prefix + i, DONOR_YAML));
            }
        } catch (IOException | RuntimeException e) {
            donors.close();
            throw e;
        }
        return donors;
    }

    DonorProcess get(int i) {
        return processes.get(i);
    }

    /** The donor at {@code address}. */
    DonorProcess at(String address) {
        return processes.stream().filter(d -> d.address().toString().equals(address)).findFirst().orElseThrow();
    }

    List<DonorAddress> addresses() {
        return processes.stream().map(DonorProcess::address).toList();
    }

    /** Writes {@code portal.list} in the donors' folder: every donor, then {@code more} addresses. */
    Path portal(String... more) throws IOException {
        StringBuilder text = new StringBuilder().append(processes.size() + more.length).append('\n');
        processes.forEach(d -> text.append(d.address()).append('\n'));
        for (String address : more) {
            text.append(address).append('\n');
        }
        Path portal = dir.resolve("portal.list");
        Files.writeString(portal, text);
        return portal;
    }

    /** Writes {@code pages} zero pages from {@code firstPage} through {@code engine}, and waits until they are in. */
    static void writeZeros(Engine engine, long firstPage, int pages) {
        ByteBuf buf = Unpooled.buffer(pages * FrameHeader.PAGE_SIZE);
        buf.writeZero(buf.capacity());
        try {
            engine.write(firstPage, pages, buf, 0).join();
        } finally {
            buf.release();
        }
    }

    @Override
    public void close() {
        processes.forEach(DonorProcess::close);
    }
}
