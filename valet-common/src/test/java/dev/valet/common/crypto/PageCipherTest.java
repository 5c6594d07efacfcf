package dev.valet.common.crypto;

import dev.valet.common.auth.ClusterSecret;
import dev.valet.common.testing.ThreadAllocation;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** AES-256-GCM per page: round trip, what fails authentication, the keys, and what one page allocates. */
class PageCipherTest {
    private static final int PAGE = 4096;

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

    private static ByteBuf page(long seed) {
        byte[] bytes = new byte[PAGE];
        new Random(seed).nextBytes(bytes);
        return Unpooled.directBuffer(PAGE).writeBytes(bytes);
    }

    @Test
    void aPageComesBackAsItWasAndTheCiphertextIsNotThePlaintext() throws IOException {
        PageCipher cipher = new PageCipher(PageKey.fromFile(keyFile("k", 1), "c1"), 256, "c1");
        ByteBuf plain = page(7);
        ByteBuf sealed = Unpooled.directBuffer(PAGE + 16).writeZero(PAGE + 16);
        cipher.encrypt(3, 17, 5, plain, 0, sealed, 16, sealed, 0);

        assertThat(ByteBufUtilEquals.equal(plain, 0, sealed, 16)).isFalse();
        ByteBuf back = Unpooled.directBuffer(PAGE).writeZero(PAGE);
        assertThat(cipher.decrypt(3, 17, 5, sealed, 16, sealed, 0, back, 0)).isTrue();
        assertThat(ByteBufUtilEquals.equal(plain, 0, back, 0)).isTrue();
    }

    @Test
    void aFlippedBitAnotherPlaceVersionIdentityOrKeyFailsAuthenticationAndWritesNothing() throws IOException {
        Path file = keyFile("k", 1);
        PageCipher cipher = new PageCipher(PageKey.fromFile(file, "c1"), 256, "c1");
        ByteBuf plain = page(9);
        ByteBuf sealed = Unpooled.directBuffer(PAGE + 16).writeZero(PAGE + 16);
        cipher.encrypt(1, 2, 3, plain, 0, sealed, 16, sealed, 0);
        ByteBuf out = Unpooled.directBuffer(PAGE).writeZero(PAGE);

        assertThat(cipher.decrypt(1, 3, 3, sealed, 16, sealed, 0, out, 0)).isFalse();
        assertThat(cipher.decrypt(2, 2, 3, sealed, 16, sealed, 0, out, 0)).isFalse();
        assertThat(cipher.decrypt(1, 2, 4, sealed, 16, sealed, 0, out, 0)).isFalse();
        assertThat(new PageCipher(PageKey.fromFile(file, "c2"), 256, "c2")
                .decrypt(1, 2, 3, sealed, 16, sealed, 0, out, 0)).isFalse();
        assertThat(new PageCipher(PageKey.fromFile(keyFile("other", 2), "c1"), 256, "c1")
                .decrypt(1, 2, 3, sealed, 16, sealed, 0, out, 0)).isFalse();
        for (int at : new int[] {0, 15, 16, 16 + 2048, 16 + PAGE - 1}) {
            sealed.setByte(at, sealed.getByte(at) ^ 0x10);
            assertThat(cipher.decrypt(1, 2, 3, sealed, 16, sealed, 0, out, 0)).as("bit flipped at %d", at).isFalse();
            sealed.setByte(at, sealed.getByte(at) ^ 0x10);
        }
        assertThat(out.forEachByte(b -> b == 0)).as("nothing written on failure").isEqualTo(-1);
        assertThat(cipher.decrypt(1, 2, 3, sealed, 16, sealed, 0, out, 0)).isTrue();
    }

    @Test
    void theDerivedKeyDependsOnTheSecretAndTheIdentity() throws IOException {
        ClusterSecret secret = ClusterSecret.generate(dir.resolve("secret"));
        ByteBuf plain = page(1);
        ByteBuf sealed = Unpooled.directBuffer(PAGE + 16).writeZero(PAGE + 16);
        new PageCipher(PageKey.fromClusterSecret(secret, "a"), 64, "x").encrypt(0, 0, 1, plain, 0, sealed, 16,
                sealed, 0);
        ByteBuf out = Unpooled.directBuffer(PAGE).writeZero(PAGE);
        assertThat(new PageCipher(PageKey.fromClusterSecret(secret, "a"), 64, "x")
                .decrypt(0, 0, 1, sealed, 16, sealed, 0, out, 0)).isTrue();
        assertThat(new PageCipher(PageKey.fromClusterSecret(secret, "b"), 64, "x")
                .decrypt(0, 0, 1, sealed, 16, sealed, 0, out, 0)).isFalse();
    }

    @Test
    void keyFilesAreRefusedNamingThePathAndWhatIsWrong() throws IOException {
        Path loose = keyFile("loose", 1);
        Files.setPosixFilePermissions(loose, PosixFilePermissions.fromString("rw-r--r--"));
        assertThatThrownBy(() -> PageKey.fromFile(loose, "c")).hasMessageContaining(loose.toString())
                .hasMessageContaining("rw-r--r--").hasMessageContaining("chmod 600");
        Path group = keyFile("group", 1);
        Files.setPosixFilePermissions(group, PosixFilePermissions.fromString("rw-rw----"));
        assertThat(PageKey.problemWith(group)).contains("group or others");
        Path shortFile = dir.resolve("short");
        Files.write(shortFile, new byte[16]);
        Files.setPosixFilePermissions(shortFile, PosixFilePermissions.fromString("rw-------"));
        assertThat(PageKey.problemWith(shortFile)).contains("has 16 bytes");
        assertThat(PageKey.problemWith(dir)).contains("not a regular file");
        assertThat(PageKey.problemWith(keyFile("ok", 3))).isNull();
    }

    @Test
    void hkdfMatchesRfc5869TestCase1() {
        byte[] ikm = new byte[22];
        java.util.Arrays.fill(ikm, (byte) 0x0b);
        byte[] salt = hex("000102030405060708090a0b0c");
        byte[] info = hex("f0f1f2f3f4f5f6f7f8f9");
        assertThat(Hkdf.sha256(ikm, salt, info, 32)).isEqualTo(
                hex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"));
    }

    /**
     * What one page costs in heap allocation once warm: the JDK's {@code Cipher.init} takes a new
     * {@code GCMParameterSpec} (and copies the IV) per page, and there is no reusable one in the API. Measured with
     * the JVM's per-thread allocation counter like the other allocation tests; the figure is printed and bounded.
     */
    @Test
    void encryptingAndDecryptingAPageAllocatesLittle() throws Exception {
        PageCipher cipher = new PageCipher(PageKey.fromFile(keyFile("k", 1), "c1"), 256, "c1");
        ByteBuf plain = page(3);
        ByteBuf sealed = Unpooled.directBuffer(PAGE + 16).writeZero(PAGE + 16);
        ByteBuf out = Unpooled.directBuffer(PAGE).writeZero(PAGE);
        int n = 100_000;
        long perPage = ThreadAllocation.of(() -> roundTrips(cipher, plain, sealed, out, 0, 50_000),
                () -> roundTrips(cipher, plain, sealed, out, 50_000, n)) / (2L * n);
        System.out.println("PageCipher: " + perPage + " bytes allocated per page encrypted or decrypted");
        assertThat(perPage).as("bytes per page (the JDK provider allocates ~1,000)").isLessThan(1536);
    }

    private static void roundTrips(PageCipher cipher, ByteBuf plain, ByteBuf sealed, ByteBuf out, long from, int n) {
        for (long v = from + 1; v <= from + n; v++) {
            cipher.encrypt(0, 1, v, plain, 0, sealed, 16, sealed, 0);
            if (!cipher.decrypt(0, 1, v, sealed, 16, sealed, 0, out, 0)) {
                throw new AssertionError("version " + v);
            }
        }
    }

    private static byte[] hex(String s) {
        byte[] b = new byte[s.length() / 2];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) Integer.parseInt(s.substring(2 * i, 2 * i + 2), 16);
        }
        return b;
    }

    /** Compares two pages in place. */
    private static final class ByteBufUtilEquals {
        static boolean equal(ByteBuf a, int ai, ByteBuf b, int bi) {
            return io.netty.buffer.ByteBufUtil.equals(a, ai, b, bi, PAGE);
        }
    }
}
