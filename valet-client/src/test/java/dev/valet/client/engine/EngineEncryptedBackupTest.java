package dev.valet.client.engine;

import dev.valet.common.config.ClientConfig;
import dev.valet.common.config.ConfigOverride;
import dev.valet.common.protocol.FrameHeader;
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
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.CompletionException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The backup disk under page encryption, with real donor processes on loopback: it holds the donors' ciphertext and
 * no plaintext, serves every page (the newest version of a rewritten one) once every donor is gone, and a bit
 * flipped on it fails the read naming the checksum or authentication, never returning the altered page.
 */
class EngineEncryptedBackupTest {
    private static final int PAGE = FrameHeader.PAGE_SIZE;
    private static final byte[] MARKER = "backup-plaintext-marker-5c1e-".getBytes(StandardCharsets.US_ASCII);
    private static final int PAGES = 256;

    @TempDir
    Path dir;

    private Path backupFile() {
        return dir.resolve("backup.img");
    }

    private ClientConfig config(boolean encrypted) throws IOException {
        ConfigOverride backup = ConfigOverride.of("backupDisk", backupFile().toString());
        if (!encrypted) {
            return EngineHarness.config(2, 2, backup);
        }
        byte[] key = new byte[32];
        new Random(1).nextBytes(key);
        Path keyFile = dir.resolve("page.key");
        Files.write(keyFile, key);
        Files.setPosixFilePermissions(keyFile, PosixFilePermissions.fromString("rw-------"));
        return EngineHarness.config(2, 2, backup, ConfigOverride.of("encryption.mode", "aes-256-gcm"),
                ConfigOverride.of("encryption.keyFile", keyFile.toString()));
    }

    /** Page {@code p} of generation {@code gen}: the marker text, the generation and the page number, repeated. */
    private static byte[] page(long p, int gen) {
        byte[] page = new byte[PAGE];
        byte[] line = (new String(MARKER, StandardCharsets.US_ASCII) + gen + "-" + p + "-")
                .getBytes(StandardCharsets.US_ASCII);
        for (int at = 0; at < PAGE; at += line.length) {
            System.arraycopy(line, 0, page, at, Math.min(line.length, PAGE - at));
        }
        return page;
    }

    private static void write(Engine engine, int from, int to, int gen) {
        ByteBuf buf = Unpooled.directBuffer(EngineHarness.BATCH * PAGE);
        try {
            for (int first = from; first < to; first += EngineHarness.BATCH) {
                int count = Math.min(EngineHarness.BATCH, to - first);
                buf.clear();
                for (int i = 0; i < count; i++) {
                    buf.writeBytes(page(first + i, gen));
                }
                engine.write(first, count, buf, 0).join();
            }
        } finally {
            buf.release();
        }
    }

    /** How many of pages {@code [from, to)} read back as generation {@code gen}. */
    private static int read(Engine engine, int from, int to, int gen) {
        ByteBuf buf = Unpooled.directBuffer(EngineHarness.BATCH * PAGE);
        int good = 0;
        try {
            for (int first = from; first < to; first += EngineHarness.BATCH) {
                int count = Math.min(EngineHarness.BATCH, to - first);
                buf.clear().writeZero(count * PAGE);
                engine.read(first, count, buf, 0).join();
                for (int i = 0; i < count; i++) {
                    byte[] got = new byte[PAGE];
                    buf.getBytes(i * PAGE, got);
                    good += Arrays.equals(got, page(first + i, gen)) ? 1 : 0;
                }
            }
        } finally {
            buf.release();
        }
        return good;
    }

    /** Occurrences of {@link #MARKER} in the backup file. */
    private long markersOnDisk() throws IOException {
        byte[] all = Files.readAllBytes(backupFile());
        long hits = 0;
        outer:
        for (int i = 0; i + MARKER.length <= all.length; i++) {
            for (int j = 0; j < MARKER.length; j++) {
                if (all[i + j] != MARKER[j]) {
                    continue outer;
                }
            }
            hits++;
        }
        return hits;
    }

    /** Writes two generations (the second over the first quarter), then kills every donor. */
    private static void writeThenKillEveryDonor(EngineHarness h, Engine engine) throws Exception {
        write(engine, 0, PAGES, 1);
        write(engine, 0, PAGES / 4, 2);
        for (DonorProcess d : h.donors) {
            d.kill();
        }
    }

    @Test
    void theDiskHoldsNoPlaintextYetServesTheNewestVersionOfEveryPageWithEveryDonorGone() throws Exception {
        try (EngineHarness h = new EngineHarness(dir).startDonors(2, "64M")) {
            Engine engine = h.start(config(true));
            writeThenKillEveryDonor(h, engine);

            // Only the disk holds the pages now: authenticated, decrypted, the newest version of each.
            assertThat(read(engine, 0, PAGES / 4, 2)).isEqualTo(PAGES / 4);
            assertThat(read(engine, PAGES / 4, PAGES, 1)).isEqualTo(PAGES - PAGES / 4);
            assertThat(markersOnDisk()).as("plaintext markers on the backup disk").isZero();
            // The pages, then one 32-byte record (version, tag) per page.
            assertThat(Files.size(backupFile())).isEqualTo(EngineHarness.SWAP + EngineHarness.SWAP / PAGE * 32);
        }
    }

    /** The scan above is not blind: without encryption the disk holds the pages as written. */
    @Test
    void theScanFindsThePlaintextOnTheDiskWhenEncryptionIsOff() throws Exception {
        try (EngineHarness h = new EngineHarness(dir).startDonors(2, "64M")) {
            Engine engine = h.start(config(false));
            writeThenKillEveryDonor(h, engine);
            assertThat(read(engine, 0, PAGES / 4, 2)).isEqualTo(PAGES / 4);
            assertThat(markersOnDisk()).isGreaterThanOrEqualTo((long) PAGES * (PAGE / (MARKER.length + 8)));
        }
    }

    @Test
    void aBitFlippedOnTheDiskFailsTheReadNamingTheChecksumOrAuthenticationAndReturnsNothing() throws Exception {
        try (EngineHarness h = new EngineHarness(dir).startDonors(2, "64M")) {
            Engine engine = h.start(config(true));
            writeThenKillEveryDonor(h, engine);
            assertThat(read(engine, 0, PAGES, 1) + read(engine, 0, PAGES / 4, 2)).isEqualTo(PAGES);

            try (RandomAccessFile disk = new RandomAccessFile(backupFile().toFile(), "rw")) {
                flip(disk, 100L * PAGE + 77); // page 100's ciphertext
                flip(disk, EngineHarness.SWAP + 120L * 32 + 8 + 5); // page 120's tag, in its record
            }
            assertReadFails(engine, 100, "fails its CRC32C");
            assertReadFails(engine, 120, "fails authentication");
            // The other pages still come back.
            assertThat(read(engine, 128, PAGES, 1)).isEqualTo(PAGES - 128);
        }
    }

    private static void flip(RandomAccessFile disk, long at) throws IOException {
        disk.seek(at);
        int b = disk.read();
        disk.seek(at);
        disk.write(b ^ 0x10);
    }

    private static void assertReadFails(Engine engine, long page, String why) {
        ByteBuf buf = Unpooled.directBuffer(PAGE).writeZero(PAGE);
        try {
            assertThatThrownBy(() -> engine.read(page, 1, buf, 0).join()).isInstanceOf(CompletionException.class)
                    .hasCauseInstanceOf(PageIoException.class).hasMessageContaining(why)
                    .hasMessageContaining("page " + page);
            assertThat(buf.forEachByte(b -> b == 0)).as("nothing of page %d returned", page).isEqualTo(-1);
        } finally {
            buf.release();
        }
    }
}
