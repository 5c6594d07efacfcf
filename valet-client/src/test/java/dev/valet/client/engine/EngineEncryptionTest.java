package dev.valet.client.engine;

import dev.valet.client.DonorFixture;
import dev.valet.client.engine.donors.RemoteDonor;
import dev.valet.client.transport.DonorConnection;
import dev.valet.client.transport.ReceivedPages;
import dev.valet.client.transport.tcp.TcpTransport;
import dev.valet.common.config.ClientConfig;
import dev.valet.common.config.ConfigOverride;
import dev.valet.common.protocol.FrameHeader;
import dev.valet.common.protocol.PageBatch;
import dev.valet.common.protocol.PageChecksum;
import dev.valet.common.testing.Await;
import dev.valet.donor.DonorProcess;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletionException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Page encryption end to end with real donor processes on loopback: donors hold no plaintext, an altered page is
 * caught by its tag even when the CRC32C is made to match, another key reads nothing and says why (and destroys
 * nothing), and a restarted client goes on with versions above any it may have used.
 */
class EngineEncryptionTest {
    private static final int PAGE = FrameHeader.PAGE_SIZE;
    private static final byte[] MARKER = "plaintext-marker-7f3a9c-".getBytes(StandardCharsets.US_ASCII);

    @TempDir
    Path dir;

    private Path keyFile(String name, long seed) throws IOException {
        byte[] bytes = new byte[32];
        new Random(seed).nextBytes(bytes);
        Path file = dir.resolve(name);
        Files.write(file, bytes);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        return file;
    }

    private static ClientConfig encrypted(Path key) {
        return EngineHarness.config(2, 2, ConfigOverride.of("encryption.mode", "aes-256-gcm"),
                ConfigOverride.of("encryption.keyFile", key.toString()));
    }

    /** Pages {@code [0, n)} filled with the marker text and the page number, written through the engine. */
    private static void writeMarked(Engine engine, int n) {
        ByteBuf buf = Unpooled.directBuffer(n * PAGE);
        for (int p = 0; p < n; p++) {
            byte[] page = markedPage(p);
            buf.writeBytes(page);
        }
        try {
            for (int first = 0; first < n; first += EngineHarness.BATCH) {
                engine.write(first, Math.min(EngineHarness.BATCH, n - first), buf, first * PAGE).join();
            }
        } finally {
            buf.release();
        }
    }

    private static byte[] markedPage(long p) {
        byte[] page = new byte[PAGE];
        byte[] line = (new String(MARKER, StandardCharsets.US_ASCII) + p + "-").getBytes(StandardCharsets.US_ASCII);
        for (int at = 0; at < PAGE; at += line.length) {
            System.arraycopy(line, 0, page, at, Math.min(line.length, PAGE - at));
        }
        return page;
    }

    /** How many of pages {@code [0, n)} read back as written. */
    private static int readMarked(Engine engine, int n) {
        ByteBuf buf = Unpooled.directBuffer(EngineHarness.BATCH * PAGE);
        int good = 0;
        try {
            for (int first = 0; first < n; first += EngineHarness.BATCH) {
                int count = Math.min(EngineHarness.BATCH, n - first);
                buf.clear().writeZero(count * PAGE);
                engine.read(first, count, buf, 0).join();
                for (int i = 0; i < count; i++) {
                    byte[] got = new byte[PAGE];
                    buf.getBytes(i * PAGE, got);
                    good += java.util.Arrays.equals(got, markedPage(first + i)) ? 1 : 0;
                }
            }
        } finally {
            buf.release();
        }
        return good;
    }

    /**
     * Occurrences of {@code needle} in the donor process's writable private memory (the slab mappings among it),
     * read through {@code /proc/PID/mem}.
     */
    private static long scanDonorMemory(DonorProcess donor, byte[] needle) throws IOException {
        long hits = 0;
        List<String> maps = Files.readAllLines(Path.of("/proc/" + donor.pid() + "/maps"));
        try (RandomAccessFile mem = new RandomAccessFile("/proc/" + donor.pid() + "/mem", "r")) {
            for (String line : maps) {
                String[] f = line.split("\\s+");
                if (!f[1].startsWith("rw")) {
                    continue;
                }
                String[] range = f[0].split("-");
                long start = Long.parseUnsignedLong(range[0], 16);
                long size = Long.parseUnsignedLong(range[1], 16) - start;
                if (size <= (512L << 20)) { // larger: the heap's reservation, which never holds lent pages
                    hits += count(mem, start, size, needle);
                }
            }
        }
        return hits;
    }

    private static long count(RandomAccessFile mem, long start, long size, byte[] needle) {
        byte[] chunk = new byte[1 << 20];
        long hits = 0;
        for (long off = 0; off < size; off += chunk.length) {
            int n = (int) Math.min(chunk.length, size - off);
            try {
                mem.seek(start + off);
                mem.readFully(chunk, 0, n);
            } catch (IOException unreadable) {
                continue; // a guard page
            }
            outer:
            for (int i = 0; i + needle.length <= n; i++) {
                for (int j = 0; j < needle.length; j++) {
                    if (chunk[i + j] != needle[j]) {
                        continue outer;
                    }
                }
                hits++;
            }
        }
        return hits;
    }

    /** The first 32 bytes of page {@code page} of slab 0 as {@code donor} stores it (the ciphertext). */
    private static byte[] storedBytes(TcpTransport transport, DonorProcess donor, long page) {
        try (DonorConnection c = DonorFixture.connect(transport, donor, "engine-test");
             ReceivedPages got = c.readPages(0, new long[] {page}, 1).join()) {
            byte[] b = new byte[32];
            got.pages().buffer().getBytes(got.pages().dataIndex(0), b);
            return b;
        }
    }

    @Test
    void donorsHoldNoPlaintextYetEveryPageComesBack() throws Exception {
        try (EngineHarness h = new EngineHarness(dir).startDonors(2, "64M");
             TcpTransport transport = DonorFixture.transport()) {
            Engine engine = h.start(encrypted(keyFile("page.key", 1)));
            int n = 1024; // two slabs
            writeMarked(engine, n);

            assertThat(readMarked(engine, n)).isEqualTo(n);
            for (DonorProcess d : h.donors) {
                // The scan reaches the slabs: the ciphertext the donor serves is found in its memory...
                assertThat(scanDonorMemory(d, storedBytes(transport, d, 7))).as("ciphertext in %s", d.address())
                        .isPositive();
                // ... and no plaintext is.
                assertThat(scanDonorMemory(d, MARKER)).as("plaintext markers in %s's memory", d.address()).isZero();
            }
        }
    }

    /** The scan above is not blind: without encryption the same pages are found in every donor's memory. */
    @Test
    void theScanFindsThePlaintextWhenEncryptionIsOff() throws Exception {
        try (EngineHarness h = new EngineHarness(dir).startDonors(2, "64M")) {
            Engine engine = h.start(EngineHarness.config(2, 2));
            writeMarked(engine, 64);
            for (DonorProcess d : h.donors) {
                assertThat(scanDonorMemory(d, MARKER)).as("markers on %s", d.address())
                        .isGreaterThanOrEqualTo(64 * (PAGE / (MARKER.length + 4)));
            }
        }
    }

    /**
     * A donor that flips a bit of a stored page and recomputes its CRC32C (what a malicious donor can do) is caught
     * (the CRC32C is not the one written): the read is served by the other copy, and the altered copy is dropped
     * and made again by re-replication, from the good copy, which then authenticates on its own.
     * One that flips a bit of the tag passes every check but authentication: with both copies so altered, the read
     * fails naming authentication and returns nothing.
     */
    @Test
    void anAlteredPageWithAMatchingChecksumIsCaughtByItsTag() throws Exception {
        try (EngineHarness h = new EngineHarness(dir).startDonors(2, "64M");
             TcpTransport transport = DonorFixture.transport()) {
            Engine engine = h.start(encrypted(keyFile("page.key", 1)));
            writeMarked(engine, 8);
            SlabEntry slab0 = engine.slabMap().slabOf(0);
            List<RemoteDonor> copies = slab0.replicas();
            assertThat(copies).hasSize(2);

            tamper(transport, h, copies.get(0), 3, false);
            // Reads go to the copy that answers fastest; both are on loopback, so the altered one is asked soon.
            // Every read returns the pages as written; the altered copy, once asked, is dropped.
            Await.until("the altered copy asked and dropped", Duration.ofSeconds(60), () -> {
                assertThat(readMarked(engine, 8)).isEqualTo(8);
                return !slab0.replicas().contains(copies.get(0));
            });

            h.awaitFullyReplicated();
            // The copy re-replication made holds the pages as they were stored (ciphertext, version, tag): each
            // copy alone authenticates.
            List<RemoteDonor> now = slab0.replicas();
            assertThat(now).hasSize(2).contains(copies.get(0));
            try {
                for (RemoteDonor keep : now) {
                    slab0.setReplicas(List.of(keep));
                    assertThat(readMarked(engine, 8)).as("pages read from %s alone", keep).isEqualTo(8);
                }
            } finally {
                slab0.setReplicas(now);
            }
            for (RemoteDonor copy : slab0.replicas()) {
                tamper(transport, h, copy, 5, true);
            }
            ByteBuf buf = Unpooled.directBuffer(PAGE).writeZero(PAGE);
            try {
                assertThatThrownBy(() -> engine.read(5, 1, buf, 0).join()).isInstanceOf(CompletionException.class)
                        .hasCauseInstanceOf(PageIoException.class)
                        .hasMessageContaining("fails authentication");
                assertThat(buf.forEachByte(b -> b == 0)).as("nothing of the page returned").isEqualTo(-1);
            } finally {
                buf.release();
            }
        }
    }

    /**
     * Reads page {@code page} of slab 0 from {@code copy}'s donor, flips a bit of its data (and fixes the CRC32C) or
     * of its tag (the CRC32C, over the data, still matches), and stores it back under the same version.
     */
    private static void tamper(TcpTransport transport, EngineHarness h, RemoteDonor copy, long page,
                               boolean inTag) {
        DonorProcess donor = h.donors.stream().filter(p -> p.address().equals(copy.address())).findFirst()
                .orElseThrow();
        try (DonorConnection c = DonorFixture.connect(transport, donor, "engine-test");
             ReceivedPages got = c.readPages(0, new long[] {page}, 1).join()) {
            PageBatch pages = got.pages();
            ByteBuf data = Unpooled.directBuffer(PAGE);
            data.writeBytes(pages.buffer(), pages.dataIndex(0), PAGE);
            ByteBuf tag = Unpooled.directBuffer(PageBatch.TAG_SIZE);
            tag.writeBytes(pages.buffer(), pages.tagIndex(0), PageBatch.TAG_SIZE);
            if (inTag) {
                tag.setByte(9, tag.getByte(9) ^ 0x04);
            } else {
                data.setByte(100, data.getByte(100) ^ 0x04);
            }
            int crc = PageChecksum.crc32c(data, 0);
            long version = pages.version(0);
            c.writePages(0, 1, e -> e.add(page, version, crc, tag, 0, data, 0)).join();
            data.release();
            tag.release();
        }
    }

    /**
     * A client restarted with another key file reads nothing, says why, and drops no copy; restarted with the right
     * key it reads everything and writes on with versions above the floor.
     */
    @Test
    void anotherKeyReadsNothingAndSaysWhyAndTheRightKeyStillReadsEverything() throws Exception {
        try (EngineHarness h = new EngineHarness(dir).startDonors(2, "64M")) {
            Path right = keyFile("right.key", 1);
            Engine first = h.start(encrypted(right));
            writeMarked(first, 64);
            long firstFloor = first.slabMap().versionFloor();
            first.close();

            Engine wrong = h.start(encrypted(keyFile("wrong.key", 2)));
            assertThatThrownBy(() -> readMarked(wrong, 1)).hasCauseInstanceOf(PageIoException.class)
                    .hasMessageContaining("fails authentication")
                    .hasMessageContaining("another key than key file " + dir.resolve("wrong.key"));
            assertThat(wrong.slabMap().slabOf(0).replicas()).as("no copy dropped for a wrong key").hasSize(2);
            wrong.close();

            Engine again = h.start(encrypted(right));
            assertThat(readMarked(again, 64)).isEqualTo(64);
            assertThat(again.slabMap().versionFloor()).isGreaterThan(first.slabMap().highestVersion());
            assertThat(again.slabMap().versionFloor()).isGreaterThan(firstFloor);
            writeMarked(again, 64);
            assertThat(readMarked(again, 64)).isEqualTo(64);
        }
    }
}
